// Postfix's smtp-sink on a free loopback port: a remote SMTP server (or, with `-L`, an LMTP store)
// that accepts everything and dumps each transaction to a file, so a test can count and read what
// arrived.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/free-ports.ts';
import { ManagedProcess } from '../support/processes.ts';

export interface SmtpSink {
  port: number;
  process: ManagedProcess;
  dumpDir: string;
  /** Every dumped transaction, oldest first, as text. */
  messages(): string[];
  stop(): Promise<void>;
}

export async function startSmtpSink(
  dir: string,
  options: {
    lmtp?: boolean;
    extraArgs?: string[];
    dump?: boolean;
    port?: number;
    /** Another loopback address (127.0.0.3, ::1), to play one of several MX hosts. */
    host?: string;
  } = {},
): Promise<SmtpSink> {
  mkdirSync(dir, { recursive: true });
  const dumpDir = join(dir, 'dump');
  mkdirSync(dumpDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const args = [
    ...(options.lmtp ? ['-L'] : []),
    ...(options.dump === false ? [] : ['-d', `${dumpDir}/%Y%m%d%H%M%S.`]),
    ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
    ...(options.extraArgs ?? []),
    options.host?.includes(':') ? `[${options.host}]:${port}` : `${options.host ?? '127.0.0.1'}:${port}`,
    '1000',
  ];
  if (process.getuid?.() === 0) {
    // smtp-sink drops to nobody before it writes dumps.
    const uid = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'nobody']).toString().trim());
    chownSync(dumpDir, uid, gid);
  }
  const proc = ManagedProcess.spawn('smtp-sink', '/usr/sbin/smtp-sink', args, {
    logFile: join(dir, 'smtp-sink.log'),
  });
  await proc.whenListening(port, options.host ?? '127.0.0.1');
  return {
    port,
    process: proc,
    dumpDir,
    messages: () => {
      const texts: string[] = [];
      for (const f of readdirSync(dumpDir).sort()) {
        try {
          texts.push(readFileSync(join(dumpDir, f), 'utf8'));
        } catch {
          // smtp-sink removes the dump of a transaction that was cut off mid-way.
        }
      }
      return texts;
    },
    stop: () => proc.stop(),
  };
}
