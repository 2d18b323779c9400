// A message's parsed structure and, when needed, its bytes. The structure is parsed once per
// message and kept in the engine's per-message cache (as JSON), so FETCH BODYSTRUCTURE or ENVELOPE
// of a whole mailbox reads no message file after the first time.
import type { MailboxView } from '../../mailbox/api.ts';
import { STORE_LIMITS } from '../../limits.ts';
import { MIME_TREE_CACHE_KEY, parseMimeTree, type MessageTree } from './mime-tree.ts';

export interface LoadedMessage {
  /** Absent only when the caller asked for the bytes alone (BODY[]). */
  tree?: MessageTree;
  bytes?: Buffer;
}

export interface ParsedMessage extends LoadedMessage {
  tree: MessageTree;
}

const MAX_CACHED_JSON = 64 * 1024; // the engine's limit for one cached value (api.ts)

export async function loadMessage(
  view: MailboxView,
  uid: number,
  needBytes: boolean,
): Promise<ParsedMessage> {
  const cached = await view.getCached(uid, MIME_TREE_CACHE_KEY);
  if (cached !== undefined) {
    const tree = JSON.parse(cached) as MessageTree;
    return needBytes ? { tree, bytes: await view.readMessageBuffer(uid) } : { tree };
  }
  const bytes = await view.readMessageBuffer(uid);
  const tree = await parseMimeTree(bytes);
  const json = JSON.stringify(tree);
  if (json.length <= MAX_CACHED_JSON) await view.putCached(uid, MIME_TREE_CACHE_KEY, json);
  return { tree, bytes };
}

/** The first read of a header whose end is not known yet: most header blocks fit (RFC 5322 mail). */
const FIRST_HEADER_READ = 8 * 1024;

/**
 * The message's own header block (with its blank line) and nothing after it: what SEARCH on header
 * keys and FETCH BODY[HEADER…] need. From the cached tree's offsets when there is one; else the
 * start of the file, read in growing steps up to the first empty line. A 50 MB message costs a
 * few KiB here, not 50 MB.
 */
export async function loadHeader(view: MailboxView, uid: number, size: number): Promise<Buffer> {
  // A small message is in memory once read (the engine's small-message cache): its header's end is
  // found in its bytes, cheaper than the cached tree (an index query and a JSON parse per message,
  // for every message of a header FETCH or a SEARCH SUBJECT).
  if (size <= STORE_LIMITS.smallMessageBytes) {
    const bytes = await view.readMessageBuffer(uid);
    const end = headerEnd(bytes);
    if (end !== undefined) return bytes.subarray(0, end);
  }
  const cached = await view.getCached(uid, MIME_TREE_CACHE_KEY);
  if (cached !== undefined) {
    const root = (JSON.parse(cached) as MessageTree).root;
    return view.readMessageBuffer(uid, { start: root.headerStart, end: root.bodyStart });
  }
  for (let length = FIRST_HEADER_READ; ; length *= 4) {
    const prefix = await view.readMessageBuffer(uid, { start: 0, end: Math.min(size, length) });
    const end = headerEnd(prefix);
    if (end !== undefined) return prefix.subarray(0, end);
    if (prefix.length >= size) break;
  }
  // No empty line: the whole message is its header (or it uses bare LFs): the parser decides.
  const whole = await loadMessage(view, uid, true);
  return whole.bytes!.subarray(whole.tree.root.headerStart, whole.tree.root.bodyStart);
}

/** Where the header block ends (after its empty line), as mailsplit sees it; undefined if not here. */
function headerEnd(prefix: Buffer): number | undefined {
  if (prefix.subarray(0, 2).toString('latin1') === '\r\n') return 2;
  const at = prefix.indexOf('\r\n\r\n', 0, 'latin1');
  // Only before the CRLF blank line (scanning the whole message for one was a profile's line).
  const bareLf = (at < 0 ? prefix : prefix.subarray(0, at + 1)).indexOf('\n\n', 0, 'latin1');
  // A bare-LF blank line before any CRLF one: leave it to the parser.
  if (bareLf >= 0 && (at < 0 || bareLf < at)) return undefined;
  return at < 0 ? undefined : at + 4;
}
