// fsync of a directory, so that a file created or renamed in it survives a crash (POSIX says a
// rename is durable only once its directory is synced). Concurrent callers share one sync — group
// commit: a caller that arrives while a sync is running waits for the next one, which starts as
// soon as the running one ends and covers every rename made before it started.
import { open, type FileHandle } from 'node:fs/promises';

export class DirectorySync {
  readonly #path: string;
  #handle: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** How many fsync calls were made (for tests: fewer than callers under load). */
  syncs = 0;

  constructor(path: string) {
    this.#path = path;
  }

  sync(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#syncNow().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  #startNext(): Promise<void> {
    this.#next = undefined;
    return this.sync();
  }

  async #syncNow(): Promise<void> {
    this.#handle ??= open(this.#path, 'r');
    const handle = await this.#handle;
    this.syncs++;
    await handle.sync();
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle).close();
  }
}
