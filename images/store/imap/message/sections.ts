// BODY[section] and BINARY[section] (RFC 9051 6.4.5, RFC 3516): where in the message a section's
// bytes are. Part numbers walk the MIME tree; a message/rfc822 part's numbers continue inside the
// embedded message; the part of a non-multipart message is "1".
import libqp from 'libqp';
import type { MimePart } from './mime-tree.ts';

export type SectionText = 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface SectionSpec {
  path: number[];
  text?: SectionText;
  /** For HEADER.FIELDS(.NOT). */
  fields?: string[];
}

export type SectionLocation =
  | { kind: 'range'; start: number; end: number }
  /** A header block whose fields are then chosen. */
  | { kind: 'fields'; start: number; end: number; names: string[]; not: boolean };

/** The part a path names, or undefined when there is none (then the section is empty). */
export function findPart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let part = root;
  let top = true; // part is the root of a message: its header is a message header
  // A part that is not multipart has one part, itself: "1" of a single-part message (RFC 9051
  // 6.4.5), and, as Dovecot answers, "2.1" of a text/html part 2 of a multipart — but not "1.1"
  // of a single-part message's body.
  let selfAllowed = true;
  for (const n of path) {
    if (!top && part.message) {
      part = part.message;
      top = true;
      selfAllowed = true;
    }
    if (part.children) {
      const child = part.children[n - 1];
      if (!child) return undefined;
      part = child;
      selfAllowed = true;
    } else if (n === 1 && selfAllowed) {
      selfAllowed = !top;
    } else {
      return undefined;
    }
    top = false;
  }
  return part;
}

export function locateSection(root: MimePart, spec: SectionSpec): SectionLocation | undefined {
  const part = findPart(root, spec.path);
  if (!part) return undefined;
  // HEADER/TEXT/HEADER.FIELDS of a part mean those of the message the part holds (message/rfc822);
  // at the top (empty path) they are the message's own.
  const message = spec.path.length === 0 ? root : part.message;
  switch (spec.text) {
    case undefined:
      // BODY[] is the whole message; BODY[n] the body of part n.
      return spec.path.length === 0
        ? { kind: 'range', start: root.headerStart, end: root.end }
        : { kind: 'range', start: part.bodyStart, end: part.end };
    case 'MIME':
      return spec.path.length === 0
        ? undefined
        : { kind: 'range', start: part.headerStart, end: part.bodyStart };
    case 'HEADER':
      return message ? { kind: 'range', start: message.headerStart, end: message.bodyStart } : undefined;
    case 'TEXT':
      return message ? { kind: 'range', start: message.bodyStart, end: message.end } : undefined;
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return message
        ? {
            kind: 'fields',
            start: message.headerStart,
            end: message.bodyStart,
            names: spec.fields ?? [],
            not: spec.text === 'HEADER.FIELDS.NOT',
          }
        : undefined;
  }
}

export class UnknownTransferEncoding extends Error {}

/**
 * BINARY[n] of a part that holds others (multipart, message/rfc822): its body with every leaf below
 * decoded and each decoded leaf's Content-Transfer-Encoding field saying `binary`, moved to the end
 * of its header; boundaries, preambles and epilogues as they are. This is what Dovecot's binary
 * converter answers (compared in ptests/dovecot-views.ptest.ts).
 */
export function decodeContainer(part: MimePart, whole: Buffer): Buffer {
  if (part.message) return Buffer.concat(decodedPart(part.message, whole));
  const out: Buffer[] = [];
  let at = part.bodyStart;
  for (const child of part.children ?? []) {
    out.push(whole.subarray(at, child.headerStart), ...decodedPart(child, whole));
    at = child.end;
  }
  out.push(whole.subarray(at, part.end));
  return Buffer.concat(out);
}

/** BINARY[] of a whole message: its header and its leaves decoded, as Dovecot answers. */
export function decodeMessage(root: MimePart, whole: Buffer): Buffer {
  return Buffer.concat(decodedPart(root, whole));
}

/** A part, header and body, with the leaves below it decoded. */
function decodedPart(part: MimePart, whole: Buffer): Buffer[] {
  const header = whole.subarray(part.headerStart, part.bodyStart);
  if (part.children || part.message) return [header, decodeContainer(part, whole)];
  const body = whole.subarray(part.bodyStart, part.end);
  const decoded = decodeTransferEncoding(part, body);
  return decoded === body ? [header, body] : [binaryHeader(header), decoded];
}

/** The header without its Content-Transfer-Encoding field, `binary` added as its last field. */
function binaryHeader(header: Buffer): Buffer {
  const text = header
    .toString('latin1')
    .replace(/^content-transfer-encoding:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*/gim, '');
  const blank = text.endsWith('\r\n\r\n') ? text.length - 2 : text.length;
  return Buffer.from(
    `${text.slice(0, blank)}Content-Transfer-Encoding: binary\r\n${text.slice(blank)}`,
    'latin1',
  );
}

/** BINARY[section]: the part's body with its Content-Transfer-Encoding undone (RFC 3516 4.2). */
export function decodeTransferEncoding(part: MimePart, body: Buffer): Buffer {
  switch (part.encoding ?? '7bit') {
    case '7bit':
    case '8bit':
    case 'binary':
      return body; // the same buffer: decodedPart sees that nothing was decoded
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return libqp.decode(body.toString('latin1'));
    default:
      throw new UnknownTransferEncoding(`Unknown Content-Transfer-Encoding ${part.encoding}`);
  }
}
