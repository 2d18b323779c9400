// The probe plan (probe-plan.ts) tried on the real node: from a pod of each source tier (kubectl
// exec of the program image's own Node) and from each outside zone's address (the outside
// namespace), every probe of a source at once, each a plain TCP connect with a deadline. A
// connection that completes is "open"; kube-router's reject (ICMP port unreachable, so ECONNREFUSED)
// or silence is "closed".
import { setTimeout as sleep } from 'node:timers/promises';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { run } from '../../testing/support/processes.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';
import { endLabel, type Probe, type ProbeEnd } from './probe-plan.ts';

export interface ProbeOutcome {
  readonly probe: Probe;
  readonly target: string;
  readonly outcome: 'open' | 'refused' | 'timeout' | 'error';
  readonly detail: string;
}

/** Where the ends are on the node. */
export interface ProbeWorld {
  /** A pod of each tier: its name (to exec in) and its address (to connect to). */
  readonly pods: ReadonlyMap<string, { readonly name: string; readonly ip: string }>;
  /** Each outside zone's address (as a source, and where its listener is as a destination). */
  readonly zones: ReadonlyMap<string, string>;
  readonly namespace: string;
  readonly outside: OutsideNetwork;
  /** The program images' Node. */
  readonly node: string;
}

// Every target at once; prints one JSON array of [outcome, detail] in the targets' order.
const SCRIPT = `
const net = require('node:net');
const [targetsJson, localAddress, timeoutMs] = process.argv.slice(1);
const targets = JSON.parse(targetsJson);
const one = ([host, port]) => new Promise((resolve) => {
  const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  const done = (outcome, detail) => { socket.destroy(); resolve([outcome, detail]); };
  socket.setTimeout(Number(timeoutMs), () => done('timeout', 'no answer'));
  socket.once('connect', () => done('open', ''));
  socket.once('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code || e.message));
});
Promise.all(targets.map(one)).then((r) => process.stdout.write(JSON.stringify(r)));
`;

function address(world: ProbeWorld, end: ProbeEnd): string {
  const found = end.kind === 'tier' ? world.pods.get(end.name)?.ip : world.zones.get(end.name);
  if (found === undefined) throw new Error(`no address on the node for ${endLabel(end)}`);
  return found;
}

const key = (end: ProbeEnd) => `${end.kind}:${end.name}`;

async function fromSource(
  world: ProbeWorld,
  source: ProbeEnd,
  probes: readonly Probe[],
  timeoutMs: number,
): Promise<ProbeOutcome[]> {
  const targets = probes.map((p) => [address(world, p.to), p.port] as const);
  const json = JSON.stringify(targets);
  let stdout: string;
  if (source.kind === 'tier') {
    const pod = world.pods.get(source.name);
    if (pod === undefined) throw new Error(`no pod of ${source.name}`);
    const result = await kubectl(
      ['-n', world.namespace, 'exec', pod.name, '--', world.node, '-e', SCRIPT, json, '', String(timeoutMs)],
      { check: false, timeoutMs: timeoutMs + 60_000 },
    );
    if (result.exitCode !== 0) throw new Error(`probes from ${pod.name}: ${result.stderr.trim()}`);
    stdout = result.stdout;
  } else {
    const [command, args] = world.outside.wrap(process.execPath, [
      '-e',
      SCRIPT,
      json,
      address(world, source),
      String(timeoutMs),
    ]);
    const result = await run(command, args, { timeoutMs: timeoutMs + 30_000 });
    if (result.code !== 0) throw new Error(`probes from ${endLabel(source)}: ${result.stderr.trim()}`);
    stdout = result.stdout;
  }
  const answers = JSON.parse(stdout) as [ProbeOutcome['outcome'], string][];
  return probes.map((probe, i) => ({
    probe,
    target: `${targets[i]![0]}:${targets[i]![1]}`,
    outcome: answers[i]![0],
    detail: answers[i]![1],
  }));
}

/** Runs every probe of the plan, one source after another (each source's probes at once). */
export async function runProbes(
  world: ProbeWorld,
  plan: readonly Probe[],
  timeoutMs = 4_000,
): Promise<ProbeOutcome[]> {
  const bySource = new Map<string, { source: ProbeEnd; probes: Probe[] }>();
  for (const probe of plan) {
    const entry = bySource.get(key(probe.from)) ?? { source: probe.from, probes: [] };
    entry.probes.push(probe);
    bySource.set(key(probe.from), entry);
  }
  const outcomes: ProbeOutcome[] = [];
  for (const { source, probes } of bySource.values())
    outcomes.push(...(await fromSource(world, source, probes, timeoutMs)));
  return outcomes;
}

const agrees = (o: ProbeOutcome) => (o.probe.expect === 'open') === (o.outcome === 'open');

/**
 * Tries the probes that disagreed with the model again, every `intervalMs` for up to `withinMs`,
 * and returns the outcomes as they settled with the ones that changed. kube-router admits traffic
 * to and from a pod until its policies are in the pod's chains and ipsets (its issue #873), and
 * applies them in periodic and event-driven full syncs: right after pods start, a wall may not be
 * up yet. What is still wrong after the window is a real hole; what changed is reported.
 */
export async function settleProbes(
  world: ProbeWorld,
  outcomes: readonly ProbeOutcome[],
  options: { withinMs?: number; intervalMs?: number; timeoutMs?: number } = {},
): Promise<{ outcomes: ProbeOutcome[]; transient: ProbeOutcome[] }> {
  const { withinMs = 30_000, intervalMs = 2_000, timeoutMs = 4_000 } = options;
  const settled = [...outcomes];
  const transient: ProbeOutcome[] = [];
  const deadline = Date.now() + withinMs;
  for (;;) {
    const wrong = settled.map((o, i) => [o, i] as const).filter(([o]) => !agrees(o));
    if (wrong.length === 0 || Date.now() >= deadline) break;
    await sleep(intervalMs);
    const again = await runProbes(
      world,
      wrong.map(([o]) => o.probe),
      timeoutMs,
    );
    for (const fresh of again) {
      const index = wrong.find(([o]) => o.probe === fresh.probe)![1];
      if (agrees(fresh)) transient.push(settled[index]!);
      settled[index] = fresh;
    }
  }
  return { outcomes: settled, transient };
}

/** A probe whose outcome is not what the model says, as a line for the failure message. */
export function mismatches(outcomes: readonly ProbeOutcome[]): string[] {
  return outcomes
    .filter((o) => !agrees(o))
    .map(
      (o) =>
        `${endLabel(o.probe.from)} -> ${endLabel(o.probe.to)}:${o.probe.port} (${o.probe.label}) at ${o.target}: ` +
        `expected ${o.probe.expect}, got ${o.outcome}${o.detail ? ` (${o.detail})` : ''}`,
    );
}
