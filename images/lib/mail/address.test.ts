import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMailbox, type AddressProblem } from './address.ts';

describe('parseMailbox', () => {
  const accepted: [string, string, boolean][] = [
    ['alice@example.test', 'alice@example.test', false],
    ['Alice.Smith@EXAMPLE.Test', 'Alice.Smith@example.test', false],
    ["o'brien+tag@example.test", "o'brien+tag@example.test", false],
    ['*@example.test', '*@example.test', false],
    ['user@xn--bcher-kva.example', 'user@xn--bcher-kva.example', false],
    ['jörg@bücher.example', 'jörg@xn--bcher-kva.example', true],
  ];
  for (const [input, address, smtpUtf8] of accepted) {
    it(`accepts ${input}`, () => {
      const parsed = parseMailbox(input, { smtpUtf8 });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.equal(parsed.value.address, address);
    });
  }

  const refused: [string, AddressProblem, string][] = [
    ['user%elsewhere.example@example.test', 'relay-form', 'percent hack'],
    ['elsewhere.example!user@example.test', 'relay-form', 'bang path'],
    ['"user@elsewhere.example"@example.test', 'relay-form', 'quoted local part hiding an @'],
    ['"john doe"@example.test', 'relay-form', 'quoted local part'],
    ['user@elsewhere.example@example.test', 'relay-form', 'two @'],
    ['user\\@elsewhere@example.test', 'relay-form', 'escaped @'],
    ['user@[192.0.2.1]', 'address-literal', 'IPv4 literal'],
    ['user@[IPv6:2001:db8::1]', 'address-literal', 'IPv6 literal'],
    ['user@example.test.', 'syntax', 'trailing dot'],
    ['user@.example.test', 'syntax', 'leading dot in domain'],
    ['user@example..test', 'syntax', 'empty label'],
    ['.user@example.test', 'syntax', 'leading dot in local part'],
    ['user.@example.test', 'syntax', 'trailing dot in local part'],
    ['us..er@example.test', 'syntax', 'double dot in local part'],
    ['user', 'syntax', 'no domain'],
    ['@example.test', 'syntax', 'no local part'],
    ['user@', 'syntax', 'empty domain'],
    ['user@exa mple.test', 'syntax', 'space in domain'],
    ['user@-example.test', 'syntax', 'label starting with a hyphen'],
    ['us(er@example.test', 'syntax', 'parenthesis (LDAP filter syntax)'],
    ['a)(uid=*@example.test', 'syntax', 'filter injection characters'],
    ['user@exam_ple.test', 'syntax', 'underscore in domain'],
    [`${'a'.repeat(65)}@example.test`, 'too-long', 'local part over 64 octets'],
    [
      `a@${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}.${'e'.repeat(62)}.test`,
      'too-long',
      'address over 254 octets',
    ],
    ['jörg@example.test', 'needs-smtputf8', 'UTF-8 local part without SMTPUTF8'],
    ['user@bücher.example', 'needs-smtputf8', 'UTF-8 domain without SMTPUTF8'],
  ];
  for (const [input, problem, name] of refused) {
    it(`refuses ${name} (${input.length > 40 ? `${input.slice(0, 40)}…` : input}) as ${problem}`, () => {
      assert.deepEqual(parseMailbox(input, { smtpUtf8: false }), { ok: false, problem });
    });
  }
});
