// The life of every mail program, written once: start the health server and read the TLS pair;
// reload the pair when the mounted Secret changes (cert-manager renews weeks before expiry); on
// SIGTERM report not ready (the Service stops sending new clients), drain — listeners and background
// work in parallel, up to `common.drainSeconds` — then close dependencies in order, and exit 0.
// A second signal exits at once.
//
//   const shell = await ProgramShell.start({ program: 'mta', common, listenHost, registry, logger, readiness });
//   shell.onTlsReload((tls) => server.updateSecureContext(tls));
//   shell.onDrain((graceMs) => listener.drain(graceMs));
//   shell.onClose(() => directory.close());
//   exitOnSignal(shell, logger);
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { commonConfig } from './contract/common.ts';
import { describeError } from './errors.ts';
import { startHealthServer, type HealthServer, type ReadinessCheck } from './contract/health-server.ts';
import { readTlsFiles, watchTlsFiles, type TlsMaterial } from './tls-files.ts';

export type CommonConfig = z.output<typeof commonConfig>;

export interface ProgramShellOptions {
  program: string;
  common: CommonConfig;
  /** Address for the health server: all interfaces in a pod, loopback in tests. */
  listenHost: string;
  registry: Registry;
  logger: Logger;
  readiness: ReadinessCheck[];
  /** How often the TLS files are looked at (tests shorten it). */
  tlsPollMs?: number;
}

type DrainStep = (graceMs: number) => Promise<void>;
type CloseStep = () => Promise<void> | void;

export class ProgramShell {
  readonly #options: ProgramShellOptions;
  readonly #health: HealthServer;
  readonly #drainSteps: DrainStep[] = [];
  readonly #closeSteps: CloseStep[] = [];
  readonly #tlsListeners: ((tls: TlsMaterial) => void)[] = [];
  readonly #stopWatching: () => void;
  #tls: TlsMaterial | undefined;
  #draining = false;
  #stopped: Promise<void> | undefined;

  private constructor(options: ProgramShellOptions, health: HealthServer, tls: TlsMaterial | undefined) {
    this.#options = options;
    this.#health = health;
    this.#tls = tls;
    const files = options.common.tls;
    this.#stopWatching = files
      ? watchTlsFiles(
          files,
          (material) => {
            this.#tls = material;
            for (const listener of this.#tlsListeners) listener(material);
            options.logger.info('TLS certificate reloaded');
          },
          (error) =>
            options.logger.error(
              { err: describeError(error) },
              'new TLS certificate refused; keeping the old one',
            ),
          options.tlsPollMs,
        )
      : () => undefined;
  }

  /** Reads the TLS pair (a bad pair fails the start: ETLS) and starts the health server. */
  static async start(options: ProgramShellOptions): Promise<ProgramShell> {
    const tls = options.common.tls ? readTlsFiles(options.common.tls) : undefined;
    // The health server asks the shell whether it drains; the shell needs the health server.
    const holder: { shell?: ProgramShell } = {};
    const health = await startHealthServer({
      port: options.common.httpPort,
      host: options.listenHost,
      registry: options.registry,
      isDraining: () => holder.shell?.draining ?? false,
      readiness: options.readiness,
    });
    holder.shell = new ProgramShell(options, health, tls);
    return holder.shell;
  }

  /** The TLS pair in use (the newest good one). */
  get tls(): TlsMaterial | undefined {
    return this.#tls;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get httpPort(): number {
    return this.#health.port;
  }

  get drainMs(): number {
    return this.#options.common.drainSeconds * 1000;
  }

  onTlsReload(listener: (tls: TlsMaterial) => void): void {
    this.#tlsListeners.push(listener);
  }

  /** Work to finish on SIGTERM; every drain step runs at once, each given the whole grace period. */
  onDrain(step: DrainStep): void {
    this.#drainSteps.push(step);
  }

  /** What to close once drained, in the order added (the health server goes last). */
  onClose(step: CloseStep): void {
    this.#closeSteps.push(step);
  }

  /** Drains and closes; calling it again returns the same promise. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#draining = true;
      await Promise.all(this.#drainSteps.map((step) => step(this.drainMs)));
      this.#stopWatching();
      for (const step of this.#closeSteps) {
        try {
          await step();
        } catch (error) {
          this.#options.logger.warn({ err: describeError(error) }, 'close step failed');
        }
      }
      await this.#health.close();
    })();
    return this.#stopped;
  }
}

/** SIGTERM and SIGINT stop the program (drain, close, exit 0); a second signal exits at once. */
export function exitOnSignal(
  program: { stop(): Promise<void> },
  logger: Logger,
  stoppedMessage = 'stopped',
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'draining');
    program.stop().then(
      () => {
        logger.info(stoppedMessage);
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: describeError(error) }, 'stop failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
