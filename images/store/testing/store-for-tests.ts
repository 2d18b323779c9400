// The store program for a whole ptest file: started in a temp dir of its own before the file's
// tests, stopped and the dir removed after them. Every ptest that runs one store for all its tests
// had the same dozen lines of startup and teardown.
import { join } from 'node:path';
import { after, before } from 'node:test';
import { makeTempDir } from '../../../testing/support/temp-dir.ts';
import { startStoreProcess, type StoreProcess } from './store-process.ts';

export interface StoreForTests {
  /** The file's temp dir (the store lives in `store/` below it; peers may use the rest). */
  readonly dir: string;
  /** The running program (from the first test on). */
  readonly store: StoreProcess;
}

/** Peers a file runs against the store (Postfix): started once it is up, stopped before it stops. */
export interface StorePeers {
  start(store: StoreProcess, dir: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Registers the file's hooks. Peers go through `peers` rather than hooks of their own: a root-level
 * `before` runs as soon as it is registered, not after the one registered before it.
 */
export function storeForTests(
  name: string,
  overrides: Parameters<typeof startStoreProcess>[1] = {},
  peers?: StorePeers,
): StoreForTests {
  const temp = makeTempDir(name);
  let store: StoreProcess | undefined;
  before(async () => {
    store = await startStoreProcess(join(temp.path, 'store'), overrides);
    await peers?.start(store, temp.path);
  });
  after(async () => {
    await peers?.stop();
    await store?.stop();
    temp.remove();
  });
  return {
    dir: temp.path,
    get store() {
      if (!store) throw new Error('the store is started in before()');
      return store;
    },
  };
}
