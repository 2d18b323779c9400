// The MMP's Prometheus metrics. Logins are counted by protocol and outcome (the LoginFailure names,
// or "ok"): a bounded label set, never a user or an address.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Open sessions by protocol and phase, counted in plain numbers and handed to the gauge when it is
 * scraped: every connection moves it two or three times, and prom-client's labelled inc/dec (a
 * label hash per call) showed in the login profile.
 */
export class SessionCounts {
  readonly #counts = new Map<string, { labels: { protocol: string; phase: string }; open: number }>();

  inc(labels: { protocol: string; phase: string }): void {
    this.#entry(labels).open++;
  }

  dec(labels: { protocol: string; phase: string }): void {
    this.#entry(labels).open--;
  }

  #entry(labels: { protocol: string; phase: string }) {
    const key = `${labels.protocol}/${labels.phase}`;
    let entry = this.#counts.get(key);
    if (!entry) this.#counts.set(key, (entry = { labels: { ...labels }, open: 0 }));
    return entry;
  }

  /** Each (protocol, phase) seen so far with its open count. */
  *entries(): Iterable<{ labels: { protocol: string; phase: string }; open: number }> {
    yield* this.#counts.values();
  }
}

export interface MmpMetrics {
  logins: Counter<'protocol' | 'outcome'>;
  loginSeconds: Histogram<'protocol' | 'outcome'>;
  loginCache: Counter<'result'>;
  sessions: SessionCounts;
  splicedBytes: Counter<'protocol' | 'direction'>;
  storeConnectFailures: Counter<'protocol'>;
  storeHandbacks: Counter<'protocol'>;
  refusedConnections: Counter<'listener' | 'reason'>;
}

export function mmpMetrics(registry: Registry): MmpMetrics {
  const registers = [registry];
  const sessions = new SessionCounts();
  new Gauge({
    name: 'mtopo_mmp_sessions',
    help: 'Open client sessions, before login (pre-login) and spliced to a store (proxied).',
    labelNames: ['protocol', 'phase'],
    registers,
    collect() {
      for (const { labels, open } of sessions.entries()) this.set(labels, open);
    },
  });
  return {
    logins: new Counter({
      name: 'mtopo_mmp_logins_total',
      help: 'Login attempts by protocol and outcome (ok, bad-credentials, directory-down, store-down, …).',
      labelNames: ['protocol', 'outcome'],
      registers,
    }),
    loginSeconds: new Histogram({
      name: 'mtopo_mmp_login_duration_seconds',
      help: 'From the login command to the answer (failure delays included).',
      labelNames: ['protocol', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    loginCache: new Counter({
      name: 'mtopo_mmp_login_cache_lookups_total',
      help: 'Logins answered from the login cache (hit) or checked in the directory (miss).',
      labelNames: ['result'],
      registers,
    }),
    sessions,
    splicedBytes: new Counter({
      name: 'mtopo_mmp_spliced_bytes_total',
      help: 'Bytes passed after login, counted when a session ends (to-store, to-client).',
      labelNames: ['protocol', 'direction'],
      registers,
    }),
    storeHandbacks: new Counter({
      name: 'mtopo_mmp_store_handbacks_total',
      help: 'Store connections the store handed back after a LOGOUT, kept for the next login instead of closed.',
      labelNames: ['protocol'],
      registers,
    }),
    storeConnectFailures: new Counter({
      name: 'mtopo_mmp_store_connect_failures_total',
      help: 'Store addresses that did not answer (each address tried counts once).',
      labelNames: ['protocol'],
      registers,
    }),
    refusedConnections: new Counter({
      name: 'mtopo_mmp_refused_connections_total',
      help: 'Connections refused before the greeting (too many from one client, draining).',
      labelNames: ['listener', 'reason'],
      registers,
    }),
  };
}
