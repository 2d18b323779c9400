import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../api/common.ts';
import { conditionOf, mergeConditions, type ConditionInput } from './conditions.ts';

const EARLIER = '2026-01-01T00:00:00Z';
const NOW = '2026-01-02T00:00:00Z';

const ready = (status: Condition['status'], reason = 'R'): ConditionInput => ({
  type: 'Ready',
  status,
  reason,
  message: 'm',
  observedGeneration: 1,
});

describe('mergeConditions', () => {
  const cases: {
    title: string;
    previous: Condition[] | undefined;
    next: ConditionInput[];
    transitions: string[];
  }[] = [
    {
      title: 'stamps a first condition now',
      previous: undefined,
      next: [ready('False')],
      transitions: [NOW],
    },
    {
      title: 'keeps the transition time when only reason or message change',
      previous: [{ ...ready('False', 'Old'), lastTransitionTime: EARLIER }],
      next: [{ ...ready('False', 'New'), message: 'other' }],
      transitions: [EARLIER],
    },
    {
      title: 'moves the transition time when the status flips',
      previous: [{ ...ready('False'), lastTransitionTime: EARLIER }],
      next: [ready('True')],
      transitions: [NOW],
    },
    {
      title: 'matches conditions by type, not by position',
      previous: [
        { ...ready('True'), type: 'Degraded', lastTransitionTime: EARLIER },
        { ...ready('True'), lastTransitionTime: EARLIER },
      ],
      next: [ready('True'), { ...ready('False'), type: 'Degraded' }],
      transitions: [EARLIER, NOW],
    },
    {
      title: 'drops conditions no longer reported',
      previous: [{ ...ready('True'), type: 'Stale', lastTransitionTime: EARLIER }],
      next: [ready('True')],
      transitions: [NOW],
    },
  ];
  for (const { title, previous, next, transitions } of cases) {
    it(title, () => {
      const merged = mergeConditions(previous, next, NOW);
      assert.deepEqual(
        merged.map((c) => c.lastTransitionTime),
        transitions,
      );
      assert.deepEqual(
        merged.map(({ lastTransitionTime: _, ...c }) => c),
        next,
      );
    });
  }
});

describe('conditionOf', () => {
  it('finds a condition by type, or nothing', () => {
    const conditions = mergeConditions(
      undefined,
      [ready('True'), { ...ready('False'), type: 'Degraded' }],
      NOW,
    );
    assert.equal(conditionOf(conditions, 'Degraded')?.status, 'False');
    assert.equal(conditionOf(conditions, 'Progressing'), undefined);
    assert.equal(conditionOf(undefined, 'Ready'), undefined);
  });
});
