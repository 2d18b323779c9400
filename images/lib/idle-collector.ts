// Memory back after a burst: a program that holds thousands of long idle sessions (the MMP's spliced
// ones, a store's IDLE clients) keeps, once a login storm is over, what V8 grew for it: a young
// generation at its largest and an old one full of the storm's garbage and fragments. V8 in a browser
// collects when a tab goes idle; Node never tells it the process is idle, and its own memory
// reducer does not shrink the young generation. So once the program has accepted nothing for a
// quiet period after a busy one, it asks V8 for the collection a low-memory notification makes:
// full, compacting, the young generation shrunk (docs/performance.md, MMP, ninth round: 10 MiB of
// 138 back at 9,900 idle sessions, in one pause of about 0.1 s).
//
// The pause is the price: it is paid only after a quiet period, never while connections come in.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * When to collect: after `quietMs` with no activity, if resident memory grew by `minGrowthMiB` since
 * the last collection (a trickle of connections grows it little and pays no pauses; a storm does).
 */
export interface QuietPolicy {
  quietMs: number;
  minGrowthMiB: number;
}

/** The decision, without clocks or V8: activity and memory in, "collect now" out. */
export class QuietPeriod {
  readonly #policy: QuietPolicy;
  #lastActivity: number | undefined;
  #baselineMiB: number;

  constructor(policy: QuietPolicy, startMiB: number) {
    this.#policy = policy;
    this.#baselineMiB = startMiB;
  }

  /** Something happened (a connection accepted): the process is not idle. */
  activity(now: number): void {
    this.#lastActivity = now;
  }

  /** True when a quiet period follows activity that grew memory; the caller collects then. */
  due(now: number, rssMiB: number): boolean {
    const last = this.#lastActivity;
    if (last === undefined || now - last < this.#policy.quietMs) return false;
    this.#lastActivity = undefined;
    return rssMiB - this.#baselineMiB >= this.#policy.minGrowthMiB;
  }

  /** What a collection left: growth is counted from here. */
  collected(rssMiB: number): void {
    this.#baselineMiB = rssMiB;
  }
}

export interface Collection {
  pauseMs: number;
  /** Resident memory before and after, MiB. */
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's gc(), made available at run time (NODE_OPTIONS would put it in every program's global scope)
 * in a context of its own, made for each collection and let go: held for the process's life, that
 * context would keep 0.4 MiB.
 */
function v8Gc(): GcFunction {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as GcFunction;
}

const MiB = 1024 * 1024;
const rssMiB = () => process.memoryUsage.rss() / MiB;

/** V8's most thorough collection (several compacting rounds, the young generation shrunk). */
export function collectAllGarbage(): Collection {
  const gc = v8Gc();
  const rssBeforeMiB = rssMiB();
  const started = performance.now();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { pauseMs: performance.now() - started, rssBeforeMiB, rssAfterMiB: rssMiB() };
}

export interface IdleCollector {
  /** Call on each unit of work that allocates (a connection accepted). */
  activity(): void;
  stop(): void;
}

export const DEFAULT_QUIET_POLICY: QuietPolicy = { quietMs: 5_000, minGrowthMiB: 16 };

/** Checks once a second (unref'd: it keeps no process alive) and collects when the period is due. */
export function startIdleCollector(
  onCollected: (collection: Collection) => void,
  policy: QuietPolicy = DEFAULT_QUIET_POLICY,
): IdleCollector {
  const period = new QuietPeriod(policy, rssMiB());
  const timer = setInterval(
    () => {
      if (!period.due(performance.now(), rssMiB())) return;
      const collection = collectAllGarbage();
      period.collected(collection.rssAfterMiB);
      onCollected(collection);
    },
    Math.min(1_000, policy.quietMs),
  );
  timer.unref();
  return {
    activity: () => period.activity(performance.now()),
    stop: () => clearInterval(timer),
  };
}
