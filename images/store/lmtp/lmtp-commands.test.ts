import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMailParams, parseCommandLine, parsePath } from './lmtp-commands.ts';

describe('parseCommandLine', () => {
  it('reads the verb in any case and the rest as the argument', () =>
    assert.deepEqual(parseCommandLine(Buffer.from('mail FROM:<a@b>')), {
      verb: 'MAIL',
      argument: 'FROM:<a@b>',
    }));
  for (const bad of ['RCPT TO:<a@b>\nDATA', 'NOOP\r', '', ' NOOP', 'NO\u0000OP'])
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseCommandLine(Buffer.from(bad)), undefined));
});

describe('parsePath', () => {
  const ok = (argument: string, keyword: 'FROM' | 'TO', utf8 = true) => {
    const r = parsePath(argument, keyword, utf8);
    return r.ok ? `${r.address} ${[...r.params.keys()].join(',')}` : r.reply.slice(0, 9);
  };
  for (const [argument, keyword, expected] of [
    ['FROM:<>', 'FROM', ' '],
    ['FROM:<a@example.org> BODY=8BITMIME SIZE=10', 'FROM', 'a@example.org BODY,SIZE'],
    ['from: <a@example.org>', 'FROM', 'a@example.org '],
    ['TO:<Alice@Siroe.Example>', 'TO', 'Alice@siroe.example '],
    ['TO:<@relay.example:bob@siroe.example>', 'TO', 'bob@siroe.example '],
    ['TO:<>', 'TO', '501 5.1.3'],
    ['TO:<a%b@siroe.example>', 'TO', '501 5.1.3'],
    ['TO:alice@siroe.example', 'TO', '501 5.5.4'],
    ['FROM:<jörg@example.org>', 'FROM', '553 5.6.7'],
    ['FROM:<jörg@example.org> SMTPUTF8', 'FROM', 'jörg@example.org SMTPUTF8'],
  ] as const)
    it(`${keyword} ${argument} → ${expected}`, () => assert.equal(ok(argument, keyword), expected));
});

describe('checkMailParams', () => {
  const check = (params: [string, string | undefined][]) =>
    checkMailParams(new Map(params), 1000)?.slice(0, 9);
  it('allows SIZE within the limit, BODY and SMTPUTF8', () =>
    assert.equal(
      check([
        ['SIZE', '1000'],
        ['BODY', '8bitmime'],
        ['SMTPUTF8', undefined],
      ]),
      undefined,
    ));
  it('refuses SIZE over the limit with 552 5.3.4', () =>
    assert.equal(check([['SIZE', '1001']]), '552 5.3.4'));
  it('refuses BODY=BINARYMIME, not offered', () =>
    assert.equal(check([['BODY', 'BINARYMIME']]), '501 5.5.4'));
  it('refuses parameters it does not know', () => assert.equal(check([['RET', 'FULL']]), '555 5.5.4'));
});
