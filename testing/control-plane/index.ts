// What integration tests (*.itest.ts) import: the shared control plane and helpers around it.
export { applyManifests, type ApplyOptions } from './apply.ts';
export { apiErrorMessage, apiErrorStatus, expectApiError } from './api-errors.ts';
export { installCrdsFrom, waitForCRDEstablished } from './crd.ts';
export { kubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';
export { createTestNamespace, TEST_NAMESPACE_LABEL } from './namespace.ts';
export { clientWithRole, type RoleClient, type RoleClientOptions } from './role-client.ts';
export { testKubeConfig, testKubeconfigPath, clusterBinDir } from './test-env.ts';
export { waitFor, type WaitOptions } from '../support/wait.ts';
