// A message's parsed structure and, when needed, its bytes. The structure is parsed once per
// message and kept in the engine's per-message cache (as JSON), so FETCH BODYSTRUCTURE or ENVELOPE
// of a whole mailbox reads no message file after the first time.
import type { MailboxView } from '../../mailbox/api.ts';
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
