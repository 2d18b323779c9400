import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendFlags, messagesToCopy, targetPath, type MessageSummary } from './plan.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const m = (uid: number, messageId: string | undefined, size: number, date = at(uid)): MessageSummary => ({
  uid,
  messageId,
  size,
  internalDate: date,
  flags: [],
});

test('an empty target gets every message, oldest UID first', () => {
  const source = [m(3, '<c@x>', 30), m(1, '<a@x>', 10), m(2, undefined, 20)];
  assert.deepEqual(
    messagesToCopy(source, []).map((x) => x.uid),
    [1, 2, 3],
  );
});

test('a re-run copies nothing; mail that reached the target meanwhile is left alone', () => {
  const source = [m(1, '<a@x>', 10), m(2, undefined, 20)];
  // The target's UIDs and arrival order are its own; the keys are what match.
  const target = [m(7, '<new@x>', 99), m(8, '<a@x>', 10), m(9, undefined, 20, at(2))];
  assert.deepEqual(messagesToCopy(source, target), []);
});

test('same Message-ID, other size: a different message, copied', () => {
  assert.deepEqual(
    messagesToCopy([m(1, '<a@x>', 10), m(2, '<a@x>', 11)], [m(5, '<a@x>', 10)]).map((x) => x.uid),
    [2],
  );
});

test('keys are counted: a message twice on the source is twice on the target', () => {
  const source = [m(1, '<a@x>', 10), m(2, '<a@x>', 10)];
  assert.deepEqual(
    messagesToCopy(source, [m(9, '<a@x>', 10)]).map((x) => x.uid),
    [2],
  );
});

test('without a Message-ID the INTERNALDATE tells messages apart', () => {
  assert.deepEqual(
    messagesToCopy(
      [m(1, undefined, 10, at(1)), m(2, undefined, 10, at(2))],
      [m(4, undefined, 10, at(1))],
    ).map((x) => x.uid),
    [2],
  );
});

test('\\Recent is never appended; other flags and keywords are', () => {
  assert.deepEqual(appendFlags(['\\Seen', '\\Recent', '$Label1']), ['\\Seen', '$Label1']);
});

test('folder paths take the target delimiter; INBOX stays', () => {
  assert.equal(targetPath('Archive/2025', '/', '.'), 'Archive.2025');
  assert.equal(targetPath('Archive.2025', '.', '.'), 'Archive.2025');
  assert.equal(targetPath('INBOX', '/', '.'), 'INBOX');
});
