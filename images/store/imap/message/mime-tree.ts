// A message's MIME structure with the byte offsets of every part, parsed once with mailsplit and
// kept (as JSON, in the engine's per-message cache) for BODYSTRUCTURE, BODY[section] and SEARCH.
// mailsplit's splitter is lossless — the chunks it emits add up to the message byte for byte — so
// counting them gives each part's header and body offsets without a parser of our own.
// message/rfc822 parts are parsed again as messages of their own (RFC 9051 6.4.5: their parts are
// numbered within the enclosing part), to a bounded depth.
import { Splitter } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import { imapLimits } from '../../limits.ts';
import { parseEnvelope, type EnvelopeData } from './envelope.ts';
import { splitHeaderFields } from './header-fields.ts';

export interface MimePart {
  /** Offsets in the whole message: header block [headerStart, bodyStart), body [bodyStart, end). */
  headerStart: number;
  bodyStart: number;
  end: number;
  type: string;
  subtype: string;
  /** Content-Type parameters, names lowercased, in order. */
  params: [string, string][];
  id?: string;
  description?: string;
  encoding?: string;
  md5?: string;
  disposition?: [string, [string, string][]];
  language?: string[];
  location?: string;
  /** Lines of the body, for text/* and message/rfc822 (RFC 9051 body-fld-lines). */
  lines?: number;
  children?: MimePart[];
  /** message/rfc822: the embedded message's root part (its header is the message header). */
  message?: MimePart;
  /** On the root part of a message (the top one and embedded ones): its ENVELOPE, ready to send. */
  envelope?: EnvelopeData;
}

export interface MessageTree {
  size: number;
  root: MimePart;
}

/** The version of this shape in the engine's cache: bump it when MimePart changes. */
export const MIME_TREE_CACHE_KEY = 'imap.mime.v2';

export async function parseMimeTree(message: Buffer): Promise<MessageTree> {
  return { size: message.length, root: await parseMessage(message, 0, message.length, 0) };
}

interface RawNode {
  node: SplitterNode;
  part: MimePart;
  parent: RawNode | undefined;
  boundary: string | undefined;
}

interface SplitterNode {
  type: 'node';
  headers: { getFirst(key: string): string } | false;
  getHeaders(): Buffer;
  parentNode: SplitterNode | false;
  multipart: string | false;
  contentType: string | false;
  _boundary: Buffer | false;
}

type SplitterChunk = SplitterNode | { type: 'body' | 'data'; value: Buffer; node: SplitterNode };

async function parseMessage(whole: Buffer, start: number, end: number, depth: number): Promise<MimePart> {
  const bytes = whole.subarray(start, end);
  const nodes: RawNode[] = [];
  const byNode = new Map<SplitterNode, RawNode>();
  let offset = start;

  const splitter = new Splitter({ ignoreEmbedded: true, maxChildNodes: imapLimits.maxMimeParts });
  splitter.end(bytes);
  for await (const chunk of splitter as AsyncIterable<SplitterChunk>) {
    if (chunk.type === 'node') {
      const headerBytes = chunk.getHeaders();
      const parent = chunk.parentNode ? byNode.get(chunk.parentNode) : undefined;
      const raw: RawNode = {
        node: chunk,
        part: describePart(chunk, parent?.part, offset, headerBytes.length),
        parent,
        boundary: chunk._boundary ? chunk._boundary.toString('latin1') : undefined,
      };
      byNode.set(chunk, raw);
      nodes.push(raw);
      if (parent) (parent.part.children ??= []).push(raw.part);
      offset += headerBytes.length;
    } else {
      const owner = byNode.get(chunk.node);
      offset += chunk.value.length;
      if (owner && chunk.type === 'body') owner.part.end = offset;
    }
  }

  const root = nodes[0]?.part ?? emptyPart(start);
  root.envelope = parseEnvelope(splitHeaderFields(whole.subarray(root.headerStart, root.bodyStart)));
  // A multipart part ends where its parent's next delimiter line starts (RFC 2046 5.1.1: the CRLF
  // before a delimiter belongs to the delimiter); the root ends with the message.
  for (const raw of nodes) {
    const part = raw.part;
    if (!part.children) continue;
    if (!raw.parent) {
      part.end = end;
    } else if (raw.parent.boundary !== undefined) {
      const at = whole.indexOf(`\r\n--${raw.parent.boundary}`, part.bodyStart, 'latin1');
      part.end = at >= 0 && at < end ? at : end;
    }
  }
  if (!root.children && nodes.length === 1) root.end = Math.max(root.end, end);
  // After a nested close delimiter ("--inner--") the line end that follows is that line's own, so it
  // stays in the part (the parent's delimiter shares it); Dovecot counts it so, and clients were
  // tested against Dovecot.
  for (const raw of nodes) {
    const part = raw.part;
    if (!raw.parent || part.end + 2 > end || whole[part.end] !== 0x0d || whole[part.end + 1] !== 0x0a)
      continue;
    const lastLineStart = whole.lastIndexOf(0x0a, part.end - 1) + 1;
    const lastLine = whole.subarray(Math.max(lastLineStart, part.bodyStart), part.end).toString('latin1');
    if (/^--.+--[ \t]*$/.test(lastLine)) part.end += 2;
  }

  for (const raw of nodes) {
    const part = raw.part;
    if (part.end < part.bodyStart) part.end = part.bodyStart;
    const body = whole.subarray(part.bodyStart, part.end);
    if (part.type === 'text' || isMessagePart(part)) part.lines = countLines(body);
    if (isMessagePart(part) && depth < imapLimits.maxMessageNesting && !part.children) {
      part.message = await parseMessage(whole, part.bodyStart, part.end, depth + 1);
    }
  }
  return root;
}

function isMessagePart(part: MimePart): boolean {
  return part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global');
}

function emptyPart(at: number): MimePart {
  return {
    headerStart: at,
    bodyStart: at,
    end: at,
    type: 'text',
    subtype: 'plain',
    params: [['charset', 'us-ascii']],
  };
}

function describePart(
  node: SplitterNode,
  parent: MimePart | undefined,
  at: number,
  headerLength: number,
): MimePart {
  const header = (key: string): string | undefined => {
    if (!node.headers) return undefined;
    const value = node.headers.getFirst(key);
    return value ? unfold(value) : undefined;
  };
  // RFC 2046 5.1.5: in multipart/digest the default type is message/rfc822; elsewhere text/plain.
  const inDigest = parent?.type === 'multipart' && parent.subtype === 'digest';
  const contentType = header('content-type');
  const parsed = contentType ? libmime.parseHeaderValue(contentType) : undefined;
  const [type, subtype] = splitType(parsed?.value, inDigest);
  const params = parsed ? paramsOf(parsed.params) : [];
  if (type === 'text' && !params.some(([k]) => k === 'charset')) params.unshift(['charset', 'us-ascii']);

  const part: MimePart = {
    headerStart: at,
    bodyStart: at + headerLength,
    end: at + headerLength,
    type,
    subtype,
    params,
  };
  const id = header('content-id');
  if (id) part.id = id;
  const description = header('content-description');
  if (description) part.description = description;
  const encoding = header('content-transfer-encoding');
  if (encoding) part.encoding = encoding.toLowerCase();
  const md5 = header('content-md5');
  if (md5) part.md5 = md5;
  const disposition = header('content-disposition');
  if (disposition) {
    const d = libmime.parseHeaderValue(disposition);
    part.disposition = [d.value.toLowerCase(), paramsOf(d.params)];
  }
  const language = header('content-language');
  if (language) part.language = language.split(/\s*,\s*/).filter(Boolean);
  const location = header('content-location');
  if (location) part.location = location;
  return part;
}

function splitType(value: string | undefined, inDigest: boolean): [string, string] {
  const match = value ? /^([^/\s;]+)\/([^/\s;]+)$/.exec(value.trim().toLowerCase()) : null;
  if (match) return [match[1]!, match[2]!];
  return inDigest ? ['message', 'rfc822'] : ['text', 'plain'];
}

/**
 * Parameters as BODYSTRUCTURE sends them: RFC 2231 continuations joined; a value that is not ASCII
 * (libmime decoded its charset) goes back to the RFC 2231 form name*=utf-8''… so the structure
 * stays 7-bit for clients that did not enable UTF-8, as Dovecot sends it.
 */
function paramsOf(params: Record<string, string | string[]> | undefined): [string, string][] {
  if (!params) return [];
  return Object.entries(params).map(([k, v]) => {
    const value = Array.isArray(v) ? v.join('') : String(v);
    const key = k.toLowerCase();
    // eslint-disable-next-line no-control-regex
    if (/^[\x00-\x7f]*$/.test(value)) return [key, value];
    return [
      `${key}*`,
      `utf-8''${encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    ];
  });
}

function unfold(value: string): string {
  return value.replace(/\r?\n[ \t]/g, ' ').trim();
}

/** body-fld-lines: the line ends in the body (an unterminated last line is not counted, as Dovecot does). */
function countLines(body: Buffer): number {
  let lines = 0;
  for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) lines++;
  return lines;
}
