// FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9) with BINARY (RFC 3516), CONDSTORE's MODSEQ and
// CHANGEDSINCE and QRESYNC's VANISHED modifier (RFC 7162 3.1.4, 3.2.6). One response per message,
// written as it is made, so a large FETCH holds one message at a time.
import { isStoreError, type MailboxView } from '../../mailbox/api.ts';
import { ArgumentError, defineCommand, no, ok, type ImapCommand } from '../command.ts';
import { buildBodyStructure } from '../message/body-structure.ts';
import { renderEnvelope } from '../message/envelope.ts';
import { selectHeaderFields } from '../message/header-fields.ts';
import { loadHeader, loadMessage, type LoadedMessage } from '../message/message-loader.ts';
import {
  decodeContainer,
  decodeMessage,
  decodeTransferEncoding,
  findPart,
  locateSection,
  UnknownTransferEncoding,
} from '../message/sections.ts';
import { atom, encodeLine, literal8, raw, type ImapValue } from '../protocol/response.ts';
import { formatSequenceSet, setContains } from '../protocol/sequence-set.ts';
import { hasFlag } from '../search/evaluate-search.ts';
import type { KnownMessage } from '../selected-mailbox.ts';
import type { ImapSession } from '../session.ts';
import { copyToLiteral } from '../literal-copy.ts';
import { readFetchPlan, type FetchItem } from './fetch-items.ts';

function fetchCommand(uid: boolean): ImapCommand {
  return defineCommand({
    name: uid ? 'UID FETCH' : 'FETCH',
    states: ['selected'],
    grammar: ['sequence-set', 'rest'],
    async handle(session, [set, rest]) {
      const selected = session.selected!;
      const plan = readFetchPlan(rest);
      if (plan.vanished && (!uid || !session.enabled.has('QRESYNC'))) {
        throw new ArgumentError('VANISHED needs UID FETCH and QRESYNC enabled');
      }
      if (
        plan.changedSince !== undefined ||
        plan.items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ')
      ) {
        session.condstoreUsed = true;
      }
      const items = plan.items;
      // RFC 7162 3.2.4: with QRESYNC every FETCH response carries the UID.
      if (
        (uid || session.enabled.has('QRESYNC')) &&
        !items.some((i) => i.kind === 'simple' && i.name === 'UID')
      )
        items.unshift({ kind: 'simple', name: 'UID' });

      if (plan.vanished) {
        const vanished = await selected.view.vanishedSince(plan.changedSince!);
        const largest = vanished.reduce((a, b) => Math.max(a, b), selected.uidNext - 1);
        const wanted = vanished.filter((u) => setContains(set, u, largest));
        if (wanted.length > 0)
          session.untagged([atom('*'), atom('VANISHED'), atom('(EARLIER)'), atom(formatSequenceSet(wanted))]);
      }

      let seqs = selected.resolve(set, uid);
      if (!uid && seqs.length === 0 && selected.exists === 0) return no('No messages', 'CANNOT');
      if (plan.changedSince !== undefined) {
        seqs = seqs.filter((s) => selected.messages[s - 1]!.modseq > plan.changedSince!);
      }

      // Fetching a body sets \Seen (RFC 9051 6.4.5), once for all the messages, before answering.
      const setsSeen = !selected.readOnly && items.some((i) => i.kind === 'section' && !i.peek);
      const seenNow = new Set<number>();
      if (setsSeen) {
        const unseen = seqs.map((s) => selected.messages[s - 1]!).filter((m) => !hasFlag(m.flags, '\\Seen'));
        if (unseen.length > 0) {
          const result = await selected.view.storeFlags({
            uids: unseen.map((m) => m.uid),
            mode: 'add',
            flags: ['\\Seen'],
          });
          for (const meta of result.messages) {
            selected.noteFlags(meta);
            if (meta.changed) seenNow.add(meta.uid);
          }
        }
      }

      let expunged = false;
      for (const seq of seqs) {
        const message = selected.messages[seq - 1];
        if (!message) continue;
        try {
          const streamed = streamedItem(items, message);
          if (streamed) {
            await fetchStreamed(session, seq, message, items, streamed, seenNow.has(message.uid));
          } else {
            const values = await fetchOne(session, message, items, seenNow.has(message.uid));
            session.untagged([atom('*'), seq, atom('FETCH'), values]);
          }
        } catch (error) {
          if (isStoreError(error, 'EXPUNGEISSUED')) {
            expunged = true;
            continue;
          }
          if (error instanceof UnknownTransferEncoding) return no(error.message, 'UNKNOWN-CTE');
          throw error;
        }
        await session.drain();
      }
      if (expunged) return no('Some messages were expunged meanwhile', 'EXPUNGEISSUED');
      return ok('FETCH completed');
    },
  });
}

async function fetchOne(
  session: ImapSession,
  m: KnownMessage,
  items: readonly FetchItem[],
  seenNow: boolean,
): Promise<ImapValue[]> {
  const view = session.selected!.view;
  // BODY[] and RFC822 need the bytes only; parts, HEADER/TEXT and the structures need the tree.
  const needsTree = items.some(
    (i) =>
      (i.kind === 'simple' && ['ENVELOPE', 'BODY', 'BODYSTRUCTURE'].includes(i.name)) ||
      (i.kind === 'section' &&
        (i.section.path.length > 0 || i.section.text !== undefined || i.type !== 'BODY')),
  );
  const needsBytes = items.some((i) => i.kind === 'section');
  const loaded: LoadedMessage | undefined = headerOnly(items)
    ? await headerMessage(view, m.uid, m.size)
    : needsTree
      ? await loadMessage(view, m.uid, needsBytes)
      : needsBytes
        ? { bytes: await view.readMessageBuffer(m.uid) }
        : undefined;
  const out: ImapValue[] = [];
  let flagsSent = false;
  for (const item of items) {
    if (item.kind === 'simple') {
      switch (item.name) {
        case 'UID':
          out.push(atom('UID'), m.uid);
          break;
        case 'FLAGS':
          out.push(atom('FLAGS'), session.flagList(m));
          flagsSent = true;
          break;
        case 'INTERNALDATE':
          out.push(atom('INTERNALDATE'), formatInternalDate(m.internalDate));
          break;
        case 'RFC822.SIZE':
          out.push(atom('RFC822.SIZE'), m.size);
          break;
        case 'MODSEQ':
          out.push(atom('MODSEQ'), [m.modseq]);
          break;
        case 'ENVELOPE':
          out.push(atom('ENVELOPE'), renderEnvelope(loaded!.tree!.root.envelope!));
          break;
        case 'BODY':
        case 'BODYSTRUCTURE':
          out.push(atom(item.name), buildBodyStructure(loaded!.tree!.root, item.name === 'BODYSTRUCTURE'));
          break;
      }
      continue;
    }
    out.push(raw(item.label), sectionValue(item, loaded!));
  }
  if (seenNow && !flagsSent) out.push(atom('FLAGS'), session.flagList(m));
  if (session.condstore && !items.some((i) => i.kind === 'simple' && i.name === 'MODSEQ'))
    out.push(atom('MODSEQ'), [m.modseq]);
  return out;
}

/** Every section asked for is the message's own header, whole or some fields (what clients list). */
function headerOnly(items: readonly FetchItem[]): boolean {
  let sections = 0;
  for (const i of items) {
    if (i.kind === 'simple' && ['ENVELOPE', 'BODY', 'BODYSTRUCTURE'].includes(i.name)) return false;
    if (i.kind !== 'section') continue;
    const text = i.section.text;
    if (i.type !== 'BODY' || i.section.path.length > 0) return false;
    if (text !== 'HEADER' && text !== 'HEADER.FIELDS' && text !== 'HEADER.FIELDS.NOT') return false;
    sections++;
  }
  return sections > 0;
}

/** The header block alone, as a message whose root is that header (all headerOnly's sections need). */
async function headerMessage(view: MailboxView, uid: number, size: number): Promise<LoadedMessage> {
  const header = await loadHeader(view, uid, size);
  const root = {
    headerStart: 0,
    bodyStart: header.length,
    end: header.length,
    type: 'text',
    subtype: 'plain',
    params: [],
  };
  return { bytes: header, tree: { size, root } };
}

function sectionValue(item: Extract<FetchItem, { kind: 'section' }>, loaded: LoadedMessage): ImapValue {
  const bytes = loaded.bytes!;
  if (item.type === 'BODY' && item.section.path.length === 0 && item.section.text === undefined)
    return partial(item, bytes);
  const root = loaded.tree!.root;
  let data: Buffer;
  if (item.type === 'BODY') {
    const where = locateSection(root, item.section);
    if (!where) data = Buffer.alloc(0);
    else if (where.kind === 'fields')
      data = selectHeaderFields(bytes.subarray(where.start, where.end), where.names, where.not);
    else data = bytes.subarray(where.start, where.end);
  } else {
    // BINARY[] of the whole message: the message with every leaf decoded, as Dovecot answers.
    const part = item.section.path.length === 0 ? undefined : findPart(root, item.section.path);
    if (item.section.path.length > 0 && !part) data = Buffer.alloc(0);
    else if (!part) data = decodeMessage(root, bytes);
    else if (part.children || part.message) data = decodeContainer(part, bytes);
    else data = decodeTransferEncoding(part, bytes.subarray(part.bodyStart, part.end));
  }
  return partial(item, data);
}

/** <start.length> (RFC 9051 6.4.5), and literal8 for BINARY content with NUL. */
function partial(item: Extract<FetchItem, { kind: 'section' }>, whole: Buffer): ImapValue {
  if (item.type === 'BINARY.SIZE') return whole.length;
  let data = whole;
  if (item.partial) {
    const start = Math.min(item.partial.start, data.length);
    const end =
      item.partial.length === undefined ? data.length : Math.min(data.length, start + item.partial.length);
    data = data.subarray(start, end);
  }
  if (item.type === 'BINARY' && data.includes(0)) return literal8(data);
  return data;
}

/** Messages from this size on are sent from the file as it is read, not from memory. */
const STREAM_FROM_BYTES = 1024 * 1024;

type SectionItem = Extract<FetchItem, { kind: 'section' }>;

/**
 * The whole-message body item (BODY[], RFC822) of a big message, without a partial. Not BINARY[]:
 * that is the message with every leaf decoded (sectionValue), not the file's bytes; streaming it
 * sent a base64 attachment undecoded. It is decoded in memory until a decoder streams.
 */
function streamedItem(items: readonly FetchItem[], m: KnownMessage): SectionItem | undefined {
  if (m.size < STREAM_FROM_BYTES) return undefined;
  const whole = items.filter(
    (i): i is SectionItem =>
      i.kind === 'section' &&
      i.type === 'BODY' &&
      !i.partial &&
      i.section.path.length === 0 &&
      i.section.text === undefined,
  );
  return whole.length === 1 ? whole[0] : undefined;
}

/**
 * One FETCH response whose message literal is copied from the file with back-pressure, through the
 * process's reused chunk buffers (literal-copy.ts): a 50 MB message costs two chunks, not 50 MB,
 * however many sessions fetch at once, and no fresh buffer per chunk.
 */
async function fetchStreamed(
  session: ImapSession,
  seq: number,
  m: KnownMessage,
  items: readonly FetchItem[],
  streamed: SectionItem,
  seenNow: boolean,
): Promise<void> {
  const others = items.filter((i) => i !== streamed);
  const values = await fetchOne(session, m, others, seenNow);
  const encode = (v: ImapValue[]) => encodeLine(v, { utf8: session.utf8 }).subarray(0, -2).toString('utf8');
  const head = encode([atom('*'), seq, atom('FETCH')]);
  const before = values.length > 0 ? `${encode(values)} ` : '';
  const file = await session.selected!.view.openMessage(m.uid);
  let sent: number;
  try {
    sent = await copyToLiteral(session, file, m.size, {
      head: Buffer.from(`${head} (${before}${streamed.label} {${m.size}}\r\n`),
      tail: Buffer.from(')\r\n'),
    });
  } catch (error) {
    session.options.log?.warn({ err: String(error), uid: m.uid }, 'reading a message for FETCH failed');
    sent = -1;
  } finally {
    await file.close();
  }
  // The literal's length is already on the wire: a short message would desynchronize the client.
  if (sent !== m.size) session.bye('Internal error reading a message');
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "17-Jul-1996 02:44:25 +0000" (RFC 9051 date-time), in UTC. */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}-${MONTH_NAMES[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

export const fetch = fetchCommand(false);
export const uidFetch = fetchCommand(true);
