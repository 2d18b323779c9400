// Prometheus metrics (prom-client). Each program builds its own registry rather than using the
// library's global one, so that tests can run several programs in one process without clashes.
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(program: string, collectProcessMetrics = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ program });
  if (collectProcessMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
