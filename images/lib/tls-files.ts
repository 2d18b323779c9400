// TLS material from the mounted Secret (tls.crt / tls.key). Kubernetes updates a mounted Secret by
// swapping a symlink, and cert-manager renews certificates weeks before they expire, so the files are
// polled and a program picks up a renewed certificate without a restart.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { MtopoError } from './errors.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the pair: a key that does not match its certificate is refused here, not at the first handshake. */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  let material: TlsMaterial;
  try {
    material = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  } catch (error) {
    throw new MtopoError('ETLS', `cannot read TLS files: ${(error as Error).message}`);
  }
  try {
    createSecureContext(material);
  } catch (error) {
    throw new MtopoError(
      'ETLS',
      `TLS certificate or key in ${files.certFile} is unusable: ${(error as Error).message}`,
    );
  }
  return material;
}

/**
 * Calls `onChange` with the new pair whenever either file changes and the pair is usable; calls
 * `onError` when it is not (the old pair stays in use). Returns a function that stops watching.
 */
export function watchTlsFiles(
  files: TlsFiles,
  onChange: (material: TlsMaterial) => void,
  onError: (error: unknown) => void,
  intervalMs = 30_000,
): () => void {
  const reload = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs === previous.mtimeMs) return;
    try {
      onChange(readTlsFiles(files));
    } catch (error) {
      onError(error);
    }
  };
  const options = { interval: intervalMs, persistent: false };
  watchFile(files.certFile, options, reload);
  watchFile(files.keyFile, options, reload);
  return () => {
    unwatchFile(files.certFile, reload);
    unwatchFile(files.keyFile, reload);
  };
}
