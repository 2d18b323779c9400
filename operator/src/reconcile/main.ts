// The operator's entry point: `node operator/src/reconcile/main.ts` (or `make run`) against the
// current kubeconfig, or in-cluster with its ServiceAccount.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DEFAULT_IMAGE_OPTIONS, defaultImagesFrom } from '../render/images.ts';
import { startOperatorHealth } from './health-server.ts';
import { loadClusterAccess } from './kube/cluster-access.ts';
import { operatorMetrics } from './metrics.ts';
import { Operator } from './operator.ts';

const { values } = parseArgs({
  options: {
    namespace: { type: 'string', default: process.env.WATCH_NAMESPACE ?? '' },
    workers: { type: 'string', default: '4' },
    'resync-seconds': { type: 'string', default: '600' },
    'health-port': { type: 'string', default: '8081' },
    'health-address': { type: 'string', default: '0.0.0.0' },
    'leader-elect': { type: 'boolean', default: false },
    'lease-namespace': { type: 'string', default: process.env.POD_NAMESPACE ?? 'mtopo-system' },
    'log-level': { type: 'string', default: 'info' },
    // The images a site runs unless its spec.images names others: the chart passes its release's.
    ...DEFAULT_IMAGE_OPTIONS,
  },
});

const defaultImages = defaultImagesFrom(values);
if (defaultImages.problems.length > 0) {
  for (const problem of defaultImages.problems) console.error(problem);
  process.exit(2);
}

const log = pino({ level: values['log-level'], base: { component: 'mtopo-operator' } });
// As kubectl: $KUBECONFIG, ~/.kube/config, or the pod's ServiceAccount.
const kubeConfig = loadClusterAccess();
const metrics = operatorMetrics();
const operator = new Operator({
  kubeConfig,
  namespace: values.namespace || undefined,
  workers: Number(values.workers),
  resyncMs: Number(values['resync-seconds']) * 1000,
  fieldManager: 'mtopo-operator',
  leaderElection: values['leader-elect']
    ? {
        enabled: true,
        namespace: values['lease-namespace'],
        name: 'mtopo-operator',
        identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
        leaseDurationSeconds: 15,
        renewIntervalMs: 5_000,
      }
    : { enabled: false },
  log,
  metrics,
  defaultImages: defaultImages.images,
});
let stopping = false;
const server = await startOperatorHealth({
  port: Number(values['health-port']),
  host: values['health-address'],
  metrics,
  readiness: () => operator.readiness(),
  isDraining: () => stopping,
});
log.info(
  { port: Number(values['health-port']), namespace: values.namespace || '(all)' },
  'mtopo operator starting',
);
operator.start(() => {
  log.error('leadership lost; exiting so a fresh replica campaigns again');
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void operator
      .stop()
      .finally(() => server.close())
      .finally(() => process.exit(0));
  });
}
