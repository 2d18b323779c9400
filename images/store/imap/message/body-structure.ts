// BODY and BODYSTRUCTURE (RFC 9051 7.5.2, RFC 3501 7.4.2) from a parsed MIME tree. BODY is the
// same without the extension data.
import { adjacent, type ImapValue } from '../protocol/response.ts';
import { renderEnvelope } from './envelope.ts';
import type { MimePart } from './mime-tree.ts';

export function buildBodyStructure(part: MimePart, extended: boolean): ImapValue[] {
  if (part.children && part.children.length > 0) {
    const out: ImapValue[] = [adjacent(part.children.map((child) => buildBodyStructure(child, extended)))];
    out.push(part.subtype);
    if (extended) out.push(paramList(part.params), disposition(part), language(part), part.location ?? null);
    return out;
  }
  const out: ImapValue[] = [
    part.type,
    part.subtype,
    paramList(part.params),
    part.id ?? null,
    part.description ?? null,
    part.encoding ?? '7bit',
    part.end - part.bodyStart,
  ];
  if (part.message) {
    out.push(
      part.message.envelope ? renderEnvelope(part.message.envelope) : null,
      buildBodyStructure(part.message, extended),
      part.lines ?? 0,
    );
  } else if (part.type === 'text') {
    out.push(part.lines ?? 0);
  }
  if (extended) out.push(part.md5 ?? null, disposition(part), language(part), part.location ?? null);
  return out;
}

function paramList(params: readonly [string, string][]): ImapValue {
  return params.length === 0 ? null : params.flat();
}

function disposition(part: MimePart): ImapValue {
  if (!part.disposition) return null;
  return [part.disposition[0], paramList(part.disposition[1])];
}

function language(part: MimePart): ImapValue {
  if (!part.language || part.language.length === 0) return null;
  return part.language.length === 1 ? part.language[0]! : part.language;
}
