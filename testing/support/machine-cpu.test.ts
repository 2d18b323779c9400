import assert from 'node:assert/strict';
import { test } from 'node:test';
import { machineMeter, parseCpuTicks, stealMeter } from './machine-cpu.ts';

// user nice system idle iowait irq softirq steal guest guest_nice
const stat = (user: number, idle: number, steal: number, guest = 0, softirq = 0) =>
  `cpu  ${user} 0 100 ${idle} 0 0 ${softirq} ${steal} ${guest} 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2 3\n`;

test('the aggregate line: steal is the eighth column, guest time is not counted twice', () => {
  assert.deepEqual(parseCpuTicks(stat(500, 1000, 50, 40, 7)), {
    busy: 607,
    idle: 1000,
    steal: 50,
    total: 1657,
  });
  assert.throws(() => parseCpuTicks('intr 1 2\n'), /no aggregate cpu line/);
});

test('the percentage stolen between two readings', () => {
  const readings = [stat(500, 1000, 50), stat(700, 1500, 350)];
  const stolen = stealMeter(() => readings.shift()!);
  // 1,000 ticks went by, 300 of them stolen.
  assert.equal(stolen(), 30);
});

test('busy seconds count softirq, which no process is charged for; idle is a percentage', () => {
  const readings = [stat(500, 1000, 0, 0, 10), stat(650, 1100, 0, 0, 60)];
  const machine = machineMeter(() => readings.shift()!);
  // 300 ticks: 150 user, 50 softirq (busy 2 s of CPU), 100 idle.
  assert.deepEqual(machine(), { stealPercent: 0, idlePercent: 33.3, busySeconds: 2 });
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
