// The store's Prometheus metrics. Labels are bounded sets: protocol, command name (from the
// command tables, never the client's text), outcome. No user names: they are unbounded and private.
import { Counter, Gauge, type Registry } from 'prom-client';

export type StoreProtocol = 'lmtp' | 'imap' | 'pop3';

export interface StoreMetrics {
  sessions: Gauge<'protocol'>;
  sessionsTotal: Counter<'protocol'>;
  commands: Counter<'protocol' | 'command' | 'result'>;
  deliveries: Counter<'outcome'>;
  storedBytes: Counter<'how'>;
  indexRebuilds: Counter;
}

export interface StoreCounts {
  /** Accounts open in memory now. */
  openAccounts(): number;
  /** Accounts on disk, as of the last count (counted in the background, not at each scrape). */
  accounts(): number;
  /** Messages of the mailboxes kept loaded with no session on them. */
  retainedMessages(): number;
}

export function storeMetrics(registry: Registry, counts: StoreCounts): StoreMetrics {
  const registers = [registry];
  new Gauge({
    name: 'mtopo_store_accounts_open',
    help: 'Accounts (users) with their index open: sessions now or within the last minute.',
    registers,
    collect() {
      this.set(counts.openAccounts());
    },
  });
  new Gauge({
    name: 'mtopo_store_accounts',
    help: 'Accounts (users) this store holds mail for.',
    registers,
    collect() {
      this.set(counts.accounts());
    },
  });
  new Gauge({
    name: 'mtopo_store_retained_messages',
    help: 'Messages of mailboxes kept in memory after their last session, for the next SELECT (bounded).',
    registers,
    collect() {
      this.set(counts.retainedMessages());
    },
  });
  return {
    sessions: new Gauge({
      name: 'mtopo_store_sessions',
      help: 'Open sessions by protocol.',
      labelNames: ['protocol'],
      registers,
    }),
    sessionsTotal: new Counter({
      name: 'mtopo_store_sessions_total',
      help: 'Sessions started, by protocol.',
      labelNames: ['protocol'],
      registers,
    }),
    commands: new Counter({
      name: 'mtopo_store_commands_total',
      help: 'Commands by protocol, name and result (ok, no, bad / -ERR).',
      labelNames: ['protocol', 'command', 'result'],
      registers,
    }),
    deliveries: new Counter({
      name: 'mtopo_store_lmtp_deliveries_total',
      help: 'LMTP recipients after DATA, by outcome: delivered, overQuota, tooBig, failed.',
      labelNames: ['outcome'],
      registers,
    }),
    storedBytes: new Counter({
      name: 'mtopo_store_stored_bytes_total',
      help: 'Bytes of messages stored, by how: delivery (LMTP), append (IMAP).',
      labelNames: ['how'],
      registers,
    }),
    indexRebuilds: new Counter({
      name: 'mtopo_store_index_rebuilds_total',
      help: 'Account indexes rebuilt from the message files (lost or unreadable index).',
      registers,
    }),
  };
}
