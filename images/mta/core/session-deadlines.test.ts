import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overdue, type DeadlineLimits, type SessionPhase } from './session-deadlines.ts';

const limits: DeadlineLimits = {
  commandMs: 300_000,
  busyCommandMs: 10_000,
  dataMs: 600_000,
  minBytesPerSecond: 1024,
  rateGraceMs: 30_000,
};

describe('overdue', () => {
  const cases: [string, SessionPhase, number, boolean, string | undefined][] = [
    ['a command within its time', { kind: 'command', since: 0 }, 299_000, false, undefined],
    [
      'a command line still incomplete after 5 minutes',
      { kind: 'command', since: 0 },
      300_001,
      false,
      'command',
    ],
    ['an idle session on a busy listener after 10 s', { kind: 'command', since: 0 }, 10_001, true, 'command'],
    ['the client waiting for us, however long', { kind: 'waiting' }, 10_000_000, true, undefined],
    ['DATA past its whole deadline', { kind: 'data', since: 0, bytes: 1e9 }, 600_001, false, 'data'],
    ['slow DATA inside the grace period', { kind: 'data', since: 0, bytes: 10 }, 29_000, false, undefined],
    [
      'DATA below the minimum rate after the grace period',
      { kind: 'data', since: 0, bytes: 30_000 },
      31_000,
      false,
      'data-rate',
    ],
    ['DATA at the minimum rate', { kind: 'data', since: 0, bytes: 40_000 }, 31_000, false, undefined],
  ];
  for (const [what, phase, now, busy, expected] of cases) {
    it(`${what} → ${expected ?? 'go on'}`, () => {
      assert.equal(overdue(phase, now, busy, limits), expected);
    });
  }

  it('judges no rate when the minimum is 0', () => {
    assert.equal(
      overdue({ kind: 'data', since: 0, bytes: 0 }, 60_000, false, { ...limits, minBytesPerSecond: 0 }),
      undefined,
    );
  });
});
