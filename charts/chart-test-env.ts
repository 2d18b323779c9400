// What the chart's integration tests share: where the chart is, the test API server's admin
// kubeconfig, and the chart's own CRDs installed there (the ones a `helm install` would bring).
import { fileURLToPath } from 'node:url';
import { installCrdsFrom, testKubeConfig } from '../testing/control-plane/index.ts';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const CHART = `${REPO_ROOT}charts/mtopo`;
export const admin = testKubeConfig();

/** Installs the CRDs the chart ships (charts/mtopo/files/crds) on the test API server. */
export const installChartCrds = (): Promise<void> => installCrdsFrom(admin, `${CHART}/files/crds`);
