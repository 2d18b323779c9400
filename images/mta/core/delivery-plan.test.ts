import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planAttempt, settleAttempt, type PlannedRecipient, type RecipientOutcome } from './delivery-plan.ts';
import { freshState } from './envelope.ts';
import { REPLIES } from './replies.ts';
import type { Destination, ResolvedRecipient } from './routing.ts';

const store: Destination = {
  kind: 'lmtp',
  host: 'store-a',
  port: 2424,
  tls: 'opportunistic',
  label: 'store:store-a',
};
const gateway: Destination = { kind: 'smtp', host: 'gw', port: 25, tls: 'opportunistic', label: 'gateway' };
const deliver = (address: string, destination: Destination): ResolvedRecipient => ({
  original: address,
  route: { kind: 'deliver', address, destination, why: 'test' },
  trail: [],
});
const leaves = (original: string, ...l: ResolvedRecipient[]): PlannedRecipient => ({ original, leaves: l });

describe('planAttempt', () => {
  it('groups final addresses by destination, each once, skipping those already done', () => {
    const plan = planAttempt(
      [
        leaves('alice@x', deliver('alice@x', store)),
        // carol forwards to alice and to dave (legacy): alice is not sent twice.
        leaves('carol@x', deliver('alice@x', store), deliver('dave@x', gateway)),
        leaves('bob@x', deliver('bob@x', store)),
      ],
      ['BOB@x'],
    );
    assert.deepEqual(
      [...plan.groups.values()].map((g) => [g.destination.label, g.recipients]),
      [
        ['store:store-a', ['alice@x']],
        ['gateway', ['dave@x']],
      ],
    );
    assert.equal(plan.labels.get('dave@x'), 'gateway');
    assert.deepEqual(plan.outcomes, []);
  });

  it('settles without sending what cannot be sent: bad syntax fails, a refusal fails, a deferral waits', () => {
    const plan = planAttempt(
      [
        { original: 'not an address', problem: 'syntax' },
        {
          original: 'ghost@x',
          leaves: [
            {
              original: 'ghost@x',
              route: { kind: 'refuse', address: 'ghost@x', reply: REPLIES.unknownUser, why: 'no entry' },
              trail: [],
            },
          ],
        },
        {
          original: 'eve@x',
          leaves: [
            {
              original: 'eve@x',
              route: { kind: 'defer', address: 'eve@x', reply: REPLIES.directoryUnavailable, why: 'down' },
              trail: [],
            },
          ],
        },
      ],
      [],
    );
    assert.deepEqual(
      plan.outcomes.map((o) => [o.address, o.status, o.enhanced]),
      [
        ['not an address', 'failed', '5.1.3'],
        ['ghost@x', 'failed', '5.1.1'],
        ['eve@x', 'deferred', '4.4.3'],
      ],
    );
    assert.equal(plan.groups.size, 0);
  });
});

describe('settleAttempt', () => {
  const retry = { initialMs: 60_000, maxMs: 3_600_000, lifetimeMs: 86_400_000 };
  const o = (address: string, status: RecipientOutcome['status'], enhanced: string): RecipientOutcome => ({
    address,
    status,
    enhanced,
    diagnostic: `${enhanced} test`,
  });

  const cases: [string, RecipientOutcome[], number, string, string[], string[]][] = [
    ['all delivered: leaves the queue', [o('a@x', 'delivered', '2.0.0')], 1000, 'finished', [], []],
    [
      'one refused: bounced, leaves the queue',
      [o('a@x', 'delivered', '2.0.0'), o('b@x', 'failed', '5.1.1')],
      1000,
      'finished',
      ['b@x 5.1.1'],
      [],
    ],
    [
      'one deferred: tried again, the refused one bounced now',
      [o('b@x', 'failed', '5.1.1'), o('c@x', 'deferred', '4.4.1')],
      1000,
      'retry',
      ['b@x 5.1.1'],
      ['c@x'],
    ],
    [
      'deferred past the lifetime: expired, bounced with 4.4.7',
      [o('c@x', 'deferred', '4.4.1')],
      86_400_001,
      'finished',
      ['c@x 4.4.7'],
      [],
    ],
  ];
  for (const [what, outcomes, now, kind, bounced, deferred] of cases) {
    it(what, () => {
      const s = settleAttempt({ state: freshState(0), outcomes, arrivedAt: 0, now, retry });
      assert.equal(s.kind, kind);
      assert.deepEqual(
        s.bounced.map((b) => `${b.address} ${b.status}`),
        bounced,
      );
      if (s.kind === 'retry')
        assert.deepEqual(
          s.deferred.map((d) => d.address),
          deferred,
        );
    });
  }

  it('writes in the retry state who is done, the next try by backoff, and the last error of each pending address', () => {
    const s = settleAttempt({
      state: { failures: 2, nextAttemptAt: 0, done: ['a@x'], lastErrors: {} },
      outcomes: [o('b@x', 'delivered', '2.0.0'), o('c@x', 'deferred', '4.4.1')],
      arrivedAt: 0,
      now: 10_000,
      retry,
    });
    assert.equal(s.kind, 'retry');
    if (s.kind !== 'retry') return;
    assert.deepEqual(s.state, {
      failures: 3,
      nextAttemptAt: 10_000 + 240_000,
      done: ['a@x', 'b@x'],
      lastErrors: { 'c@x': { status: '4.4.1', diagnostic: '4.4.1 test' } },
    });
  });

  it('makes the last try at the end of the lifetime, not after it', () => {
    const s = settleAttempt({
      state: freshState(0),
      outcomes: [o('c@x', 'deferred', '4.4.1')],
      arrivedAt: 0,
      now: 86_399_000,
      retry,
    });
    assert.equal(s.kind === 'retry' && s.state.nextAttemptAt, 86_400_000);
  });
});
