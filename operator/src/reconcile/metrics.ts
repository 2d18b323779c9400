// The operator's Prometheus metrics, in one registry served at /metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function operatorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconciles: new Counter({
      name: 'mtopo_reconcile_total',
      help: 'Resources reconciled, by kind (MessagingTopology, MTARelay, MMPPool) and result (done, retry, invalid, orphaned, paused, error).',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'mtopo_reconcile_duration_seconds',
      help: 'Time to reconcile one site (a topology with its relays and pools).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    renders: new Counter({
      name: 'mtopo_renders_total',
      help: 'Sites validated and rendered; a site whose inputs and children did not change is not.',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'mtopo_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'mtopo_workqueue_retries_total',
      help: 'Keys requeued after a failure.',
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: 'mtopo_watch_restarts_total',
      help: 'Watch restarts by kind and reason (closed, silent, expired, error).',
      labelNames: ['kind', 'reason'],
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'mtopo_api_requests_total',
      help: 'Requests to the API server by verb and kind.',
      labelNames: ['verb', 'kind'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'mtopo_leader',
      help: '1 while this replica holds the leader lease.',
      registers: [registry],
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof operatorMetrics>;
