// Reads a tar back into memory with tar-stream's extractor, for tests: every header and body as
// written, in order.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { extract as tarExtract, type Header } from 'tar-stream';

export interface TarItem {
  readonly header: Header;
  readonly body: Buffer;
}

export async function readTar(source: string | Buffer): Promise<TarItem[]> {
  const extract = tarExtract();
  const input = typeof source === 'string' ? createReadStream(source) : Readable.from([source]);
  input.pipe(extract);
  const items: TarItem[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    items.push({ header: entry.header, body: Buffer.concat(chunks) });
  }
  return items;
}

/** The archive's files by name, and its blobs by digest. */
export async function readImageArchive(archive: string): Promise<{
  items: TarItem[];
  file: (name: string) => Buffer;
  blob: (digest: string) => Buffer;
  json: (name: string) => unknown;
}> {
  const items = await readTar(archive);
  const file = (name: string): Buffer => {
    const item = items.find((candidate) => candidate.header.name === name);
    if (!item) throw new Error(`${archive} has no ${name}`);
    return item.body;
  };
  return {
    items,
    file,
    blob: (digest) => file(`blobs/sha256/${digest.replace(/^sha256:/, '')}`),
    json: (name) => JSON.parse(file(name).toString()) as unknown,
  };
}
