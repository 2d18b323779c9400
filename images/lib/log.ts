// JSON logs, one object a line, on stdout (pino). Each program logs with `program` and, where it has
// one, the queue id or session id as fields, so one message can be followed across tiers. Secrets are
// never passed to a logger; the redact list is a second line of defence.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  program: string;
  level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Extra fields on every line (role, hostname). */
  base?: Record<string, string>;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { program: options.program, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'pass', '*.pass'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
