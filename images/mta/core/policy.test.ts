import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testConfig } from '../testing/test-config.ts';
import { AddressSet as NetworkSet, PRIVATE_RANGES } from '../../lib/contract/cidr.ts';
import {
  connectionRefusal,
  ownedAddresses,
  recipientVerdict,
  senderVerdict,
  type Role,
  type SessionUser,
} from './policy.ts';
import { buildRoutingTable } from './routing.ts';

const alice: SessionUser = {
  kind: 'user',
  login: 'alice',
  addresses: ['alice@example.test', 'a.alias@example.test'],
};
const proxy: SessionUser = { kind: 'proxy' };
const show = (v: { ok: true; value: unknown } | { ok: false; reply: { code: number; status: string } }) =>
  v.ok ? 'ok' : `${v.reply.code} ${v.reply.status}`;

describe('connectionRefusal', () => {
  const acceptFrom = new NetworkSet(PRIVATE_RANGES);
  const cases: [Role, string, boolean, number, string][] = [
    ['internet', '203.0.113.5', false, 1, 'ok'],
    ['outbound', '203.0.113.5', false, 1, 'ok'],
    ['inbound', '10.1.2.3', false, 1, 'ok'],
    ['inbound', '203.0.113.5', false, 1, '554 5.7.1'],
    ['gateway', '203.0.113.5', false, 1, '554 5.7.1'],
    ['internet', '203.0.113.5', false, 21, '421 4.7.0'],
    ['internet', '203.0.113.5', true, 1, '421 4.3.2'],
  ];
  it("outbound relay port: only from the site's own networks", () => {
    const at = (remoteAddress: string) =>
      connectionRefusal({
        role: 'outbound',
        channel: 'relay',
        remoteAddress,
        acceptFrom,
        draining: false,
        connectionsFromClient: 1,
        maxConnectionsPerClient: 20,
      })?.code;
    assert.equal(at('10.244.1.2'), undefined);
    assert.equal(at('203.0.113.5'), 554);
  });
  for (const [role, remoteAddress, draining, connections, expected] of cases) {
    it(`${role} from ${remoteAddress}${draining ? ' while draining' : ''} with ${connections} connection(s) → ${expected}`, () => {
      const r = connectionRefusal({
        role,
        channel: role === 'outbound' ? 'submission' : 'mx',
        remoteAddress,
        acceptFrom,
        draining,
        connectionsFromClient: connections,
        maxConnectionsPerClient: 20,
      });
      assert.equal(r ? `${r.code} ${r.status}` : 'ok', expected);
    });
  }
});

describe('senderVerdict', () => {
  const cases: [Role, string, SessionUser | undefined, string][] = [
    ['internet', 'someone@elsewhere.example', undefined, 'ok'],
    ['internet', '', undefined, 'ok'],
    ['internet', 'bad address', undefined, '553 5.1.7'],
    ['inbound', '', undefined, 'ok'],
    ['outbound', 'alice@example.test', undefined, '530 5.7.0'],
    ['outbound', 'alice@example.test', proxy, '530 5.7.0'],
    ['outbound', 'alice@example.test', alice, 'ok'],
    ['outbound', 'ALICE@example.test', alice, 'ok'],
    ['outbound', 'a.alias@example.test', alice, 'ok'],
    ['outbound', 'bob@example.test', alice, '553 5.7.1'],
    ['outbound', 'ceo@elsewhere.example', alice, '553 5.7.1'],
    ['outbound', '', alice, '553 5.7.1'],
  ];
  for (const [role, sender, user, expected] of cases) {
    it(`${role}: MAIL FROM:<${sender}> as ${user ? (user.kind === 'user' ? user.login : 'the proxy') : 'nobody'} → ${expected}`, () => {
      assert.equal(
        show(
          senderVerdict({
            role,
            channel: role === 'outbound' ? 'submission' : 'mx',
            sender,
            smtpUtf8: false,
            user,
          }),
        ),
        expected,
      );
    });
  }
});

describe('recipientVerdict: the open-relay battery', () => {
  // Every form an open-relay test throws at a mail server, against every role, unauthenticated.
  const battery: [string, string][] = [
    ['victim@elsewhere.example', '554 5.7.1'],
    ['victim%elsewhere.example@example.test', '553 5.7.1'],
    ['elsewhere.example!victim@example.test', '553 5.7.1'],
    ['"victim@elsewhere.example"@example.test', '553 5.7.1'],
    ['"victim%elsewhere.example"@example.test', '553 5.7.1'],
    ['victim@elsewhere.example@example.test', '553 5.7.1'],
    ['victim@[192.0.2.1]', '553 5.7.1'],
    ['victim@[IPv6:2001:db8::1]', '553 5.7.1'],
    ['victim@example.test.', '553 5.1.3'],
    ['victim@elsewhere.example.', '553 5.1.3'],
    ['victim@example.test.elsewhere.example', '554 5.7.1'],
  ];
  for (const role of ['internet', 'inbound', 'gateway'] as const) {
    const table = buildRoutingTable(testConfig(role));
    for (const [recipient, expected] of battery) {
      it(`${role}: RCPT TO:<${recipient}> → ${expected}`, () => {
        assert.equal(
          show(
            recipientVerdict({
              table,
              channel: table.role === 'outbound' ? 'submission' : 'mx',
              recipient,
              smtpUtf8: false,
              user: undefined,
            }),
          ),
          expected,
        );
      });
    }
  }

  it('outbound: relays for an authenticated user, and not for anyone else', () => {
    const table = buildRoutingTable(testConfig('outbound'));
    const verdict = (recipient: string, user: SessionUser | undefined) =>
      show(recipientVerdict({ table, channel: 'submission', recipient, smtpUtf8: false, user }));
    assert.equal(verdict('friend@elsewhere.example', alice), 'ok');
    assert.equal(verdict('friend@elsewhere.example', undefined), '530 5.7.0');
    assert.equal(verdict('friend@elsewhere.example', proxy), '530 5.7.0');
    assert.equal(verdict('x%y@elsewhere.example', alice), '553 5.7.1');
  });
});

describe('ownedAddresses', () => {
  it('lists the primary address and the aliases in comparable form', () => {
    assert.deepEqual(ownedAddresses({ mail: 'Alice@Example.Test', aliases: ['al@example.test'] }), [
      'alice@example.test',
      'al@example.test',
    ]);
  });
});
