import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCpuTicks, stealMeter } from './cpu-steal.ts';

const stat = (user: number, idle: number, steal: number, guest = 0) =>
  `cpu  ${user} 0 100 ${idle} 0 0 0 ${steal} ${guest} 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2 3\n`;

test('the aggregate line: steal is the eighth column, guest time is not counted twice', () => {
  assert.deepEqual(parseCpuTicks(stat(500, 1000, 50, 40)), { steal: 50, total: 1650 });
  assert.throws(() => parseCpuTicks('intr 1 2\n'), /no aggregate cpu line/);
});

test('the percentage stolen between two readings', () => {
  const readings = [stat(500, 1000, 50), stat(700, 1500, 350)];
  const stolen = stealMeter(() => readings.shift()!);
  // 1,000 ticks went by, 300 of them stolen.
  assert.equal(stolen(), 30);
});

test('no time gone by is no steal', () => {
  const stolen = stealMeter(() => stat(500, 1000, 50));
  assert.equal(stolen(), 0);
});

test('the real /proc/stat reads, and its steal is a percentage', () => {
  const stolen = stealMeter();
  const value = stolen();
  assert.ok(value >= 0 && value <= 100, String(value));
});
