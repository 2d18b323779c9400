// The MTA's Prometheus metrics. Recipients are counted by outcome and destination (a store, the
// gateway, the relay, a route, the smarthost, or "mx" for the internet — a bounded set of labels,
// never a remote domain). Replies are counted by the stage of the session and the code sent.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface MtaMetrics {
  messagesReceived: Counter<'role'>;
  recipients: Counter<'role' | 'destination' | 'outcome'>;
  deliveryDelay: Histogram<'role' | 'destination'>;
  replies: Counter<'role' | 'stage' | 'code'>;
  queueMessages: Gauge<'role'>;
  queueOldestSeconds: Gauge<'role'>;
  connections: Gauge<'role' | 'listener'>;
  connectionsRefused: Counter<'role' | 'listener' | 'reason'>;
  smugglingRefused: Counter<'role'>;
  bareLineEndings: Counter<'role'>;
  authLockouts: Counter<'role' | 'key'>;
  harvestingClosed: Counter<'role'>;
  sessionsAborted: Counter<'role' | 'stage'>;
  deadlines: Counter<'role' | 'deadline'>;
}

export interface QueueStats {
  depth: number;
  /** Arrival time (ms) of the oldest message, undefined when the queue is empty. */
  oldestArrival: number | undefined;
}

export function mtaMetrics(registry: Registry, role: string, queue: () => QueueStats): MtaMetrics {
  const registers = [registry];
  return {
    messagesReceived: new Counter({
      name: 'mtopo_mta_messages_received_total',
      help: 'Messages accepted (queued and acknowledged with 250).',
      labelNames: ['role'],
      registers,
    }),
    recipients: new Counter({
      name: 'mtopo_mta_recipients_total',
      help: 'Recipients by delivery outcome: delivered, deferred (an attempt failed for now) or bounced.',
      labelNames: ['role', 'destination', 'outcome'],
      registers,
    }),
    deliveryDelay: new Histogram({
      name: 'mtopo_mta_delivery_delay_seconds',
      help: 'Time from acceptance to delivery at the next hop.',
      labelNames: ['role', 'destination'],
      buckets: [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 14400, 86400,
      ],
      registers,
    }),
    replies: new Counter({
      name: 'mtopo_mta_smtp_replies_total',
      help: 'Replies of the MTA policy to clients, by session stage and reply code.',
      labelNames: ['role', 'stage', 'code'],
      registers,
    }),
    queueMessages: new Gauge({
      name: 'mtopo_mta_queue_messages',
      help: 'Messages in the queue (not yet delivered to every recipient).',
      labelNames: ['role'],
      registers,
      collect() {
        this.set({ role }, queue().depth);
      },
    }),
    queueOldestSeconds: new Gauge({
      name: 'mtopo_mta_queue_oldest_message_age_seconds',
      help: 'Age of the oldest message in the queue; 0 when empty.',
      labelNames: ['role'],
      registers,
      collect() {
        const oldest = queue().oldestArrival;
        this.set({ role }, oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    }),
    connections: new Gauge({
      name: 'mtopo_mta_smtp_connections',
      help: 'Open client connections by listener.',
      labelNames: ['role', 'listener'],
      registers,
    }),
    connectionsRefused: new Counter({
      name: 'mtopo_mta_connections_refused_total',
      help: 'Connections closed before the SMTP greeting: a PROXY header from a peer that is not the load balancer (untrusted-proxy), or a bad one.',
      labelNames: ['role', 'listener', 'reason'],
      registers,
    }),
    smugglingRefused: new Counter({
      name: 'mtopo_mta_smuggling_refused_total',
      help: 'Messages refused because a lone dot sat next to a bare CR or LF (SMTP smuggling).',
      labelNames: ['role'],
      registers,
    }),
    bareLineEndings: new Counter({
      name: 'mtopo_mta_bare_line_endings_total',
      help: 'Bare CR or LF characters turned into CRLF in accepted messages.',
      labelNames: ['role'],
      registers,
    }),
    authLockouts: new Counter({
      name: 'mtopo_mta_auth_lockouts_total',
      help: 'Lockouts after too many failed logins, by what was locked (client address or account).',
      labelNames: ['role', 'key'],
      registers,
    }),
    harvestingClosed: new Counter({
      name: 'mtopo_mta_recipient_error_limit_total',
      help: 'Sessions closed (421) for too many refused recipients (directory harvesting).',
      labelNames: ['role'],
      registers,
    }),
    sessionsAborted: new Counter({
      name: 'mtopo_mta_sessions_aborted_total',
      help: 'Sessions the client ended in the middle of a stage (a hang-up during DATA).',
      labelNames: ['role', 'stage'],
      registers,
    }),
    deadlines: new Counter({
      name: 'mtopo_mta_session_deadlines_total',
      help: 'Sessions closed (421) for being too slow: command, data (total time) or data-rate.',
      labelNames: ['role', 'deadline'],
      registers,
    }),
  };
}
