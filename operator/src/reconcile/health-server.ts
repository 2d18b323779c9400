// The operator's /metrics, /healthz and /readyz: the programs' health server (the kit's, in the
// contract), asked whether this replica can do its job (leading with synced caches, or standing by).
import { startHealthServer, type HealthServer } from '../../../images/lib/contract/health-server.ts';
import type { OperatorMetrics } from './metrics.ts';

export interface OperatorHealth {
  port: number;
  host: string;
  metrics: OperatorMetrics;
  readiness: () => { ok: boolean; reason: string };
  /** True once the operator is stopping: it reports not ready. */
  isDraining?: () => boolean;
}

export function startOperatorHealth(options: OperatorHealth): Promise<HealthServer> {
  return startHealthServer({
    port: options.port,
    host: options.host,
    registry: options.metrics.registry,
    isDraining: options.isDraining ?? (() => false),
    readiness: [
      {
        name: 'operator',
        check: () => {
          const state = options.readiness();
          return state.ok ? Promise.resolve() : Promise.reject(new Error(state.reason));
        },
      },
    ],
  });
}
