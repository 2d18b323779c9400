import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectoryEntry } from '../../lib/directory/entry.ts';
import { testConfig } from '../testing/test-config.ts';
import { parseMailbox, type MailAddress } from '../../lib/mail/address.ts';
import { REPLIES } from './replies.ts';
import {
  buildRoutingTable,
  destinationKey,
  needsDirectory,
  RecipientRouter,
  relayRefusal,
  routeAddress,
  type Lookup,
  type Route,
} from './routing.ts';

const addr = (text: string): MailAddress => {
  const parsed = parseMailbox(text, { smtpUtf8: false });
  assert.ok(parsed.ok, text);
  return parsed.value;
};

const entry = (over: Partial<DirectoryEntry>): DirectoryEntry => ({
  dn: 'uid=u,ou=people,dc=example,dc=test',
  uid: 'u',
  mail: 'u@example.test',
  aliases: [],
  forwardTo: [],
  mailHost: undefined,
  ...over,
});

const where = (route: Route): string => {
  switch (route.kind) {
    case 'deliver':
      return route.destination.kind === 'mx'
        ? `mx:${route.destination.domain}`
        : `${route.destination.kind}:${route.destination.host}`;
    case 'forward':
      return `forward:${route.to.join(',')}`;
    case 'refuse':
    case 'defer':
      return `${route.kind}:${route.reply.code} ${route.reply.status}`;
  }
};

describe('relayRefusal: who may send where, per role', () => {
  const cases: [
    role: 'internet' | 'inbound' | 'outbound' | 'gateway',
    address: string,
    authenticated: boolean,
    refusal: string | undefined,
  ][] = [
    ['internet', 'alice@example.test', false, undefined],
    ['internet', 'ALICE@EXAMPLE.TEST', false, undefined],
    ['internet', 'someone@legacy.example.test', false, undefined],
    ['internet', 'victim@elsewhere.example', false, '554 5.7.1'],
    ['internet', 'alice@sub.example.test', false, '554 5.7.1'],
    ['internet', 'alice@example.test.evil.example', false, '554 5.7.1'],
    ['inbound', 'alice@example.test', false, undefined],
    ['inbound', 'x@legacy.example.test', false, undefined],
    ['inbound', 'victim@elsewhere.example', false, '554 5.7.1'],
    ['outbound', 'victim@elsewhere.example', false, '530 5.7.0'],
    ['outbound', 'friend@elsewhere.example', true, undefined],
    ['outbound', 'alice@example.test', true, undefined],
    ['gateway', 'x@legacy.example.test', false, undefined],
    ['gateway', 'alice@example.test', false, '554 5.7.1'],
    ['gateway', 'victim@elsewhere.example', false, '554 5.7.1'],
  ];
  for (const [role, address, authenticated, refusal] of cases) {
    it(`${role}: ${address}${authenticated ? ' (authenticated)' : ''} → ${refusal ?? 'accepted'}`, () => {
      const table = buildRoutingTable(testConfig(role));
      const r = relayRefusal(table, addr(address), authenticated);
      assert.equal(r ? `${r.code} ${r.status}` : undefined, refusal);
    });
  }
});

describe('routeAddress', () => {
  const inbound = buildRoutingTable(testConfig('inbound'));
  const outbound = buildRoutingTable(testConfig('outbound'));
  const withSmarthost = buildRoutingTable(
    testConfig('outbound', { smarthost: { host: 'smarthost.test', port: 587, tls: 'verify' } }),
  );
  const withRoute = buildRoutingTable(
    testConfig('outbound', {
      routes: [
        { domains: ['partner.example'], to: { host: 'mx.partner.example', port: 2500, tls: 'required' } },
      ],
    }),
  );
  const noGateway = buildRoutingTable(testConfig('inbound', { gateway: undefined }));
  const found = (e: Partial<DirectoryEntry>): Lookup => ({ kind: 'found', entry: entry(e) });

  const cases: [
    name: string,
    table: ReturnType<typeof buildRoutingTable>,
    address: string,
    lookup: Lookup,
    expected: string,
  ][] = [
    [
      'a store user goes to the store named by mailHost',
      inbound,
      'alice@example.test',
      found({ mailHost: 'store-a' }),
      'lmtp:store-a.stores.test',
    ],
    [
      'mailHost matches without regard to case',
      inbound,
      'alice@example.test',
      found({ mailHost: 'STORE-B' }),
      'lmtp:store-b.stores.test',
    ],
    [
      'an unknown user is refused with 5.1.1',
      inbound,
      'nobody@example.test',
      { kind: 'none' },
      'refuse:550 5.1.1',
    ],
    [
      'a directory that is down defers, never refuses',
      inbound,
      'alice@example.test',
      { kind: 'unavailable', reason: 'timeout' },
      'defer:451 4.4.3',
    ],
    [
      'an address two entries claim defers',
      inbound,
      'alice@example.test',
      { kind: 'ambiguous' },
      'defer:451 4.1.4',
    ],
    [
      'a mailHost not among our stores goes to the gateway',
      inbound,
      'dave@example.test',
      found({ mailHost: 'notes1.legacy.test' }),
      'smtp:gateway.test',
    ],
    [
      'a mailHost not among our stores defers without a gateway',
      noGateway,
      'dave@example.test',
      found({ mailHost: 'notes1.legacy.test' }),
      'defer:451 4.3.0',
    ],
    ['an entry without mailHost defers', inbound, 'eve@example.test', found({}), 'defer:451 4.3.0'],
    [
      'forwarding addresses replace the mailbox',
      inbound,
      'carol@example.test',
      found({ forwardTo: ['alice@example.test'], mailHost: 'store-a' }),
      'forward:alice@example.test',
    ],
    [
      'a gateway domain goes to the gateway without asking the directory',
      inbound,
      'x@legacy.example.test',
      { kind: 'not-asked' },
      'smtp:gateway.test',
    ],
    [
      'remote mail from the outbound tier goes to the MX hosts',
      outbound,
      'friend@elsewhere.example',
      { kind: 'not-asked' },
      'mx:elsewhere.example',
    ],
    [
      'remote mail goes through the smarthost when there is one',
      withSmarthost,
      'friend@elsewhere.example',
      { kind: 'not-asked' },
      'smtp:smarthost.test',
    ],
    [
      'a per-domain route wins over MX',
      withRoute,
      'bob@partner.example',
      { kind: 'not-asked' },
      'smtp:mx.partner.example',
    ],
    [
      'a local recipient of the outbound tier goes to its store',
      outbound,
      'bob@example.test',
      found({ mailHost: 'store-b' }),
      'lmtp:store-b.stores.test',
    ],
  ];
  for (const [name, table, address, lookup, expected] of cases) {
    it(name, () => {
      assert.equal(where(routeAddress(table, addr(address), lookup)), expected);
    });
  }

  it("hands the store an alias's mail under the owner's primary address, and a legacy system the address as written", () => {
    const owner = found({
      mail: 'Alice@example.test',
      aliases: ['a.lias@example.test'],
      mailHost: 'store-a',
    });
    const toStore = routeAddress(inbound, addr('a.lias@example.test'), owner);
    assert.equal(toStore.kind === 'deliver' && toStore.address, 'Alice@example.test');
    const legacy = found({ mail: 'bob@example.test', mailHost: 'notes1.legacy.test' });
    const toGateway = routeAddress(inbound, addr('b.ob@example.test'), legacy);
    assert.equal(toGateway.kind === 'deliver' && toGateway.address, 'b.ob@example.test');
  });

  it('sends everything from the internet tier to the inbound tier', () => {
    const table = buildRoutingTable(testConfig('internet'));
    assert.equal(
      where(routeAddress(table, addr('alice@example.test'), { kind: 'not-asked' })),
      'smtp:inbound.test',
    );
    assert.equal(needsDirectory(table, addr('alice@example.test')), false);
  });

  it('sends the gateway its routed domains and refuses the rest', () => {
    const table = buildRoutingTable(testConfig('gateway'));
    assert.equal(
      where(routeAddress(table, addr('x@legacy.example.test'), { kind: 'not-asked' })),
      'smtp:notes.legacy.test',
    );
    assert.equal(
      where(routeAddress(table, addr('x@example.test'), { kind: 'not-asked' })),
      'refuse:554 5.7.1',
    );
  });

  it('sends the gateway hosted-domain users still on the legacy system, when it has legacyUsers', () => {
    const table = buildRoutingTable(
      testConfig('gateway', { legacyUsers: { host: 'notes.corp.test', port: 25, tls: 'opportunistic' } }),
    );
    assert.equal(relayRefusal(table, addr('dave@example.test'), false), undefined);
    assert.equal(
      where(routeAddress(table, addr('dave@example.test'), { kind: 'not-asked' })),
      'smtp:notes.corp.test',
    );
    assert.equal(
      where(routeAddress(table, addr('x@legacy.example.test'), { kind: 'not-asked' })),
      'smtp:notes.legacy.test',
      'a routed domain still takes its route',
    );
    assert.equal(relayRefusal(table, addr('victim@elsewhere.example'), false)?.code, 554);
  });

  it("sends the inbound tier's mail for the outside to the outbound tier when it has one", () => {
    const table = buildRoutingTable(
      testConfig('inbound', { outboundRelay: { host: 'outbound.test', port: 2525, tls: 'opportunistic' } }),
    );
    assert.equal(
      where(routeAddress(table, addr('friend@elsewhere.example'), { kind: 'not-asked' })),
      'smtp:outbound.test',
    );
    assert.equal(
      where(routeAddress(inbound, addr('friend@elsewhere.example'), { kind: 'not-asked' })),
      'mx:elsewhere.example',
      'without one, by MX',
    );
  });

  it('asks the directory only for hosted domains of the inbound and outbound tiers', () => {
    assert.equal(needsDirectory(inbound, addr('alice@example.test')), true);
    assert.equal(needsDirectory(inbound, addr('x@legacy.example.test')), false);
    assert.equal(needsDirectory(outbound, addr('friend@elsewhere.example')), false);
  });
});

describe('destinationKey', () => {
  it('never lets routes with different TLS demands share connections', () => {
    const hop = { kind: 'smtp' as const, host: 'notes.legacy.test', port: 25, label: 'route' };
    assert.notEqual(
      destinationKey({ ...hop, tls: 'opportunistic' }),
      destinationKey({ ...hop, tls: 'verify' }),
    );
    assert.equal(
      destinationKey({ ...hop, tls: 'verify' }),
      destinationKey({ ...hop, tls: 'verify', label: 'other' }),
    );
  });
});

describe('RecipientRouter', () => {
  const table = buildRoutingTable(testConfig('inbound'));
  const directory: Record<string, Partial<DirectoryEntry>> = {
    'alice@example.test': { mailHost: 'store-a' },
    'carol@example.test': { forwardTo: ['alice@example.test', 'friend@elsewhere.example'] },
    'loop1@example.test': { forwardTo: ['loop2@example.test'] },
    'loop2@example.test': { forwardTo: ['loop1@example.test'] },
    'self@example.test': { forwardTo: ['self@example.test'] },
  };
  const asked: string[] = [];
  const router = new RecipientRouter(table, (address) => {
    asked.push(address);
    const e = directory[address.toLowerCase()];
    return Promise.resolve(e ? { kind: 'found', entry: entry(e) } : { kind: 'none' });
  });

  it('follows forwarding to every final destination, explaining each', async () => {
    const leaves = await router.resolve(addr('carol@example.test'));
    assert.deepEqual(
      leaves.map((l) => where(l.route)),
      ['lmtp:store-a.stores.test', 'mx:elsewhere.example'],
    );
    assert.equal(leaves[0]?.trail.length, 2);
    assert.match(leaves[0]?.trail[0] ?? '', /forwards its mail/);
    assert.match(leaves[0]?.trail[1] ?? '', /mailHost store-a/);
  });

  it('refuses forwarding loops with 5.4.6 instead of looping', async () => {
    for (const start of ['loop1@example.test', 'self@example.test']) {
      const leaves = await router.resolve(addr(start));
      assert.deepEqual(
        leaves.map((l) => where(l.route)),
        [`refuse:${REPLIES.forwardingLoop.code} ${REPLIES.forwardingLoop.status}`],
      );
    }
  });
});
