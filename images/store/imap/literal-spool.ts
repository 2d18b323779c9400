// Where a streamed APPEND literal goes (docs/store.md, "Big APPENDs"): the engine's message file,
// written as the bytes arrive, so a message near APPENDLIMIT costs a read buffer, not its size. The
// literal is read to its end whatever happens (the session must stay in step with the client); a
// failure or a session that may not append drops the rest, and APPEND answers from what is noted.
import type { IncomingMessage, MessageStore } from '../mailbox/api.ts';

export class LiteralSpool {
  /** Undefined: the bytes are dropped (not logged in, or the file could not be made). */
  file: IncomingMessage | undefined;
  /** A NUL arrived: a plain literal may not carry one (RFC 3516: only literal8). */
  nul = false;
  /** Why the bytes could not be kept (the store refused or the disk failed). */
  error: Error | undefined;

  private constructor(file: IncomingMessage | undefined, error?: unknown) {
    this.file = file;
    if (error !== undefined) this.fail(error);
  }

  private fail(error: unknown): void {
    this.error = error instanceof Error ? error : new Error(String(error));
  }

  /** A spool into the store, or one that drops the bytes when `keep` is false. */
  static async open(store: MessageStore, keep: boolean): Promise<LiteralSpool> {
    if (!keep) return new LiteralSpool(undefined);
    try {
      return new LiteralSpool(await store.receiveMessage());
    } catch (error) {
      return new LiteralSpool(undefined, error);
    }
  }

  async write(data: Buffer): Promise<void> {
    if (!this.nul && data.includes(0)) this.nul = true;
    if (!this.file || this.error !== undefined) return;
    try {
      await this.file.write(data);
    } catch (error) {
      this.fail(error);
      await this.discard();
    }
  }

  /** Removes the file unless an APPEND took it; idempotent. */
  async discard(): Promise<void> {
    await this.file?.discard().catch(() => undefined);
  }
}
