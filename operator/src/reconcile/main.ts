// The operator's entry point: `node operator/src/reconcile/main.ts` (or `make run`) against the
// current kubeconfig, or in-cluster with its ServiceAccount.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PROGRAMS, type DefaultImages } from '../render/images.ts';
import { image } from '../api/common.ts';
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
    'default-image-mta': { type: 'string' },
    'default-image-store': { type: 'string' },
    'default-image-mmp': { type: 'string' },
  },
});

/** The --default-image-PROGRAM flags that were given, each checked to be an image reference. */
function defaultImagesOf(flags: Record<string, unknown>): DefaultImages {
  const images: DefaultImages = {};
  for (const program of PROGRAMS) {
    const value = flags[`default-image-${program}`];
    if (typeof value !== 'string' || value === '') continue;
    const checked = image.safeParse(value);
    if (!checked.success) {
      console.error(
        `--default-image-${program}: ${JSON.stringify(value)} ${checked.error.issues[0]?.message ?? 'is invalid'} (such as "docker.io/mtopo/${program}:0.1.0")`,
      );
      process.exit(2);
    }
    images[program] = value;
  }
  return images;
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
  defaultImages: defaultImagesOf(values),
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
