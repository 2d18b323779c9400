// A namespace of its own for each test, so tests can run side by side on the shared control
// plane and leave nothing behind for the next one.
import type { TestContext } from 'node:test';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { testKubeConfig } from './test-env.ts';

/** Namespaces made by the tests carry this label, to tell them apart in `kubectl get ns`. */
export const TEST_NAMESPACE_LABEL = 'mtopo.dev/test-namespace';

/** Lowercase letters, digits and dashes, as a namespace name requires. */
function nameFromTitle(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug === '' ? 'test' : slug;
}

/**
 * Creates a namespace named after the test (plus a random suffix) and deletes it when the test ends.
 * Deletion is not awaited to completion: the namespace controller finishes it in the background.
 */
export async function createTestNamespace(
  t: TestContext,
  kubeConfig: KubeConfig = testKubeConfig(),
): Promise<string> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const created = await core.createNamespace({
    body: {
      metadata: { generateName: `${nameFromTitle(t.name)}-`, labels: { [TEST_NAMESPACE_LABEL]: 'true' } },
    },
  });
  const name = created.metadata?.name;
  if (name === undefined) throw new Error('the API server returned a namespace without a name');
  t.after(async () => {
    await core.deleteNamespace({ name });
  });
  return name;
}
