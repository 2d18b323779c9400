import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type ReaderEvent, type ReaderLimits, type Token } from './command-reader.ts';

// Limits of the size the store uses (images/store/limits.ts); each program passes its own.
const limits: ReaderLimits = {
  maxLineBytes: 64 * 1024,
  maxLiteralBytes: 64 * 1024,
  maxAppendLiteralBytes: 1024 * 1024,
  maxLiteralMinusBytes: 4096,
  maxCommandBytes: 4 * 1024 * 1024,
  maxDiscardBytes: 8 * 1024 * 1024,
  maxNestingDepth: 32,
  maxTokens: 10_000,
};

function readAll(
  input: string | Buffer | (string | Buffer)[],
  reader = new CommandReader(limits),
): ReaderEvent[] {
  const events: ReaderEvent[] = [];
  for (const chunk of Array.isArray(input) ? input : [input]) {
    reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1'));
    for (let e = reader.next(); e; e = reader.next()) events.push(e);
  }
  return events;
}

/** Tokens as plain data: atoms as strings, strings as {s}, lists as arrays. */
function plain(tokens: Token[]): unknown[] {
  return tokens.map((t) => {
    if (t.kind === 'list') return plain(t.items);
    if (t.kind === 'string')
      return { s: t.value.toString('latin1'), ...(t.literal ? { literal: true } : {}) };
    if (t.section)
      return { atom: t.value, section: plain(t.section), ...(t.partial ? { partial: t.partial } : {}) };
    return t.value;
  });
}

function onlyCommand(events: ReaderEvent[]) {
  const commands = events.filter((e) => e.kind === 'command');
  assert.equal(commands.length, 1, JSON.stringify(events));
  return commands[0]!.command;
}

describe('IMAP command reader', () => {
  it('reads tag, name and atoms, quoted strings and nested lists', () => {
    const c = onlyCommand(readAll('a1 login "us\\"er" pa\\ss\r\nignored-until-next'));
    assert.equal(c.tag, 'a1');
    assert.equal(c.name, 'LOGIN');
    assert.deepEqual(plain(c.args), [{ s: 'us"er' }, 'pa\\ss']);
    const f = onlyCommand(readAll('2 FETCH 1:* (FLAGS (X (Y)))\r\n'));
    assert.deepEqual(plain(f.args), ['1:*', ['FLAGS', ['X', ['Y']]]]);
  });

  it('joins UID with its command', () => {
    assert.equal(onlyCommand(readAll('3 uid fetch 1 UID\r\n')).name, 'UID FETCH');
  });

  it('reads BODY[section]<partial> as one token, with lists inside the section', () => {
    const c = onlyCommand(readAll('4 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BODY[])\r\n'));
    assert.deepEqual(plain(c.args), [
      '1',
      [
        { atom: 'BODY.PEEK', section: ['HEADER.FIELDS', ['From', 'To']], partial: { start: 0, length: 100 } },
        { atom: 'BODY', section: [] },
      ],
    ]);
  });

  it('keeps [ and ] in other atoms (an astring may hold them: [Gmail]/Sent)', () => {
    assert.deepEqual(plain(onlyCommand(readAll('5 SELECT [Gmail]/Sent\r\n')).args), ['[Gmail]/Sent']);
  });

  it('asks for a synchronizing literal, then reads it across chunks', () => {
    const reader = new CommandReader(limits);
    const first = readAll('6 APPEND INBOX (\\Seen) {11}\r\n', reader);
    assert.deepEqual(first, [{ kind: 'continue' }]);
    const rest = readAll(['hello', ' world\r\n'], reader);
    const c = onlyCommand(rest);
    assert.deepEqual(plain(c.args), ['INBOX', ['\\Seen'], { s: 'hello world', literal: true }]);
  });

  it('reads a non-synchronizing literal without asking, and a literal8', () => {
    const events = readAll('7 APPEND INBOX {3+}\r\nabc\r\n8 APPEND INBOX ~{2+}\r\n\0x\r\n');
    assert.equal(events.filter((e) => e.kind === 'continue').length, 0);
    const commands = events.flatMap((e) => (e.kind === 'command' ? [e.command] : []));
    assert.equal(commands.length, 2);
    const binary = commands[1]!.args[1]!;
    assert.ok(binary.kind === 'string' && binary.binary && binary.value.equals(Buffer.from('\0x')));
  });

  it('reads a literal in the middle of a command (MULTIAPPEND, LOGIN with literals)', () => {
    const c = onlyCommand(readAll('9 LOGIN {1+}\r\nu {1+}\r\np\r\n'));
    assert.deepEqual(plain(c.args), [
      { s: 'u', literal: true },
      { s: 'p', literal: true },
    ]);
  });

  it('refuses {4294967296} before the client sends it, and goes on', () => {
    const events = readAll('10 APPEND INBOX {4294967296}\r\n11 NOOP\r\n');
    assert.deepEqual(events[0], {
      kind: 'reject',
      tag: '10',
      status: 'NO',
      code: 'TOOBIG',
      text: 'Message over the limit of 1048576 bytes',
    });
    assert.equal(onlyCommand(events.slice(1)).name, 'NOOP');
  });

  it('drops an oversized non-synchronizing literal, then refuses the command', () => {
    const big = 'x'.repeat(limits.maxLiteralBytes + 1);
    const events = readAll(`12 LOGIN {${big.length}+}\r\n${big} pw\r\n13 NOOP\r\n`);
    assert.equal(events[0]!.kind, 'reject');
    assert.equal((events[0] as { tag?: string }).tag, '12');
    assert.equal(onlyCommand(events.slice(1)).name, 'NOOP');
  });

  it('ends the session for a non-synchronizing literal too large to drop', () => {
    const events = readAll('14 APPEND INBOX {4294967296+}\r\n');
    assert.equal(events[0]!.kind, 'fatal');
  });

  it('refuses {n+} over 4096 with LITERAL- (RFC 7888), and {n+} entirely without either', () => {
    const minus = readAll(
      `15 LOGIN {5000+}\r\n${'y'.repeat(5000)} p\r\n`,
      new CommandReader(limits, 'minus'),
    );
    assert.equal(minus[0]!.kind, 'reject');
    const none = readAll('16 LOGIN {1+}\r\nu p\r\n', new CommandReader(limits, 'none'));
    assert.equal(none[0]!.kind, 'reject');
    assert.equal(none.length, 1);
  });

  it('refuses an overlong line with its tag and drops it as it arrives', () => {
    const reader = new CommandReader(limits);
    const events = readAll(
      ['17 NOOP ' + 'z'.repeat(limits.maxLineBytes), 'z'.repeat(100_000), 'zz\r\n18 NOOP\r\n'],
      reader,
    );
    assert.equal(events[0]!.kind, 'reject');
    assert.equal((events[0] as { tag?: string }).tag, '17');
    assert.equal(onlyCommand(events.slice(1)).tag, '18');
    assert.equal(reader.buffered, 0);
  });

  it('refuses nesting deeper than the limit', () => {
    const deep = '('.repeat(limits.maxNestingDepth + 1) + ')'.repeat(limits.maxNestingDepth + 1);
    const events = readAll(`19 SEARCH ${deep}\r\n`);
    assert.deepEqual(events, [{ kind: 'reject', tag: '19', status: 'BAD', text: 'Too deeply nested' }]);
  });

  it('refuses bad syntax with BAD and a reason', () => {
    for (const [line, text] of [
      ['20 X "unterminated\r\n', 'Unterminated quoted string'],
      ['21 X (a\r\n', 'Unbalanced parentheses'],
      ['22 X a)\r\n', 'Unexpected ")"'],
      ['23 X "bad \\q"\r\n', 'Invalid escape in quoted string'],
    ] as const) {
      assert.deepEqual(readAll(line), [{ kind: 'reject', tag: line.split(' ')[0], status: 'BAD', text }]);
    }
  });

  it('refuses a missing or invalid tag without a tag', () => {
    assert.deepEqual(readAll('+ NOOP\r\n'), [
      { kind: 'reject', status: 'BAD', text: 'Missing or invalid tag' },
    ]);
    assert.deepEqual(readAll('"x" NOOP\r\n'), [
      { kind: 'reject', status: 'BAD', text: 'Missing or invalid tag' },
    ]);
  });

  it('hands raw lines over in line mode (AUTHENTICATE, IDLE)', () => {
    const reader = new CommandReader(limits);
    reader.push(Buffer.from('DONE\r\n24 NOOP\r\n'));
    reader.lineMode = true;
    assert.deepEqual(reader.next(), { kind: 'line', line: Buffer.from('DONE') });
    assert.equal((reader.next() as { command: { name: string } }).command.name, 'NOOP');
  });

  describe('streaming big APPEND literals', () => {
    const streaming: ReaderLimits = { ...limits, streamAppendLiteralBytes: 1000 };

    it('hands a big literal out in pieces as it arrives, holding none of it, then the command', () => {
      const reader = new CommandReader(streaming);
      const body = Buffer.alloc(5000, 'x');
      const events = readAll(
        [
          's1 APPEND INBOX (\\Seen) {5000}\r\n',
          body.subarray(0, 3000),
          body.subarray(3000),
          ' (x) ~{1200+}\r\n',
          body.subarray(0, 1200),
          '\r\n',
        ],
        reader,
      );
      const start = events.filter((e) => e.kind === 'literal-start');
      assert.deepEqual(
        start.map((e) => [e.literal.size, e.literal.binary, e.continue]),
        [
          [5000, false, true],
          [1200, true, false],
        ],
      );
      const data = events.filter((e) => e.kind === 'literal-data');
      assert.equal(data.length, 3, 'one piece per arrival');
      assert.equal(Buffer.concat(data.map((e) => e.data)).length, 6200);
      assert.ok(data.every((e) => e.data.every((b) => b === 0x78)));
      const c = onlyCommand(events);
      const literals = [c.args[2], c.args[4]].map((t) => (t?.kind === 'string' ? t : undefined));
      assert.deepEqual(
        literals.map((t) => [t?.value.length, t?.streamed === start[literals.indexOf(t)]?.literal]),
        [
          [0, true],
          [0, true],
        ],
      );
      assert.equal(reader.buffered, 0);
    });

    it('keeps small literals in memory, and streams the one that would make the command hold too much', () => {
      const events = readAll(
        ['s2 APPEND INBOX {600}\r\n', 'a'.repeat(600), ' {600}\r\n', 'b'.repeat(600), '\r\n'],
        new CommandReader(streaming),
      );
      assert.deepEqual(
        events.map((e) => e.kind),
        ['continue', 'literal-start', 'literal-data', 'command'],
      );
      const c = onlyCommand(events);
      assert.deepEqual(plain(c.args)[1], { s: 'a'.repeat(600), literal: true });
    });

    it('streams APPEND only: other commands keep their literal limit', () => {
      const events = readAll(
        ['s3 LOGIN {2000}\r\n'],
        new CommandReader({ ...streaming, maxLiteralBytes: 64 }),
      );
      assert.equal(events[0]?.kind, 'reject');
    });
  });
});
