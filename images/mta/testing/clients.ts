// Real SMTP clients for the protocol tests: swaks (its transcript shows every reply), Python's
// smtplib and curl, plus a helper to wait for a message to show up at a sink.
import { randomBytes } from 'node:crypto';
import { run, type RunResult } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import type { SmtpSink } from '../../../testing/peers/smtp-sink.ts';

/** swaks marks server lines "<-", errors "<**", and the same inside TLS "<~", "<~*". */
const REPLY_LINE = /^\s*<(-|\*\*|~\*|~)\s+/;

export interface SwaksResult extends RunResult {
  /** Every reply line the server sent ("<-" and "<**" lines of the transcript), without the arrow. */
  replies: string[];
}

export async function swaks(port: number, args: string[]): Promise<SwaksResult> {
  const result = await run('swaks', ['--server', `127.0.0.1:${port}`, '--hide-informational', ...args], {
    timeoutMs: 30_000,
  });
  const replies = result.stdout
    .split('\n')
    .filter((l) => REPLY_LINE.test(l))
    .map((l) => l.replace(REPLY_LINE, ''));
  return { ...result, replies };
}

/** The reply to a given command: the first reply line after the command was sent. */
export function replyTo(result: SwaksResult, command: RegExp): string | undefined {
  const lines = result.stdout.split('\n');
  const at = lines.findIndex((l) => /^\s*(->|~>)\s/.test(l) && command.test(l));
  if (at < 0) return undefined;
  const reply = lines.slice(at + 1).find((l) => REPLY_LINE.test(l));
  return reply?.replace(REPLY_LINE, '');
}

export function marker(): string {
  return `m-${randomBytes(6).toString('hex')}`;
}

/** Waits until a message containing `text` has arrived at the sink, and returns it. */
export async function arrived(sink: SmtpSink, text: string, timeoutMs = 10_000): Promise<string> {
  let found: string | undefined;
  await waitFor(
    `a message with ${text} at the sink`,
    () => {
      found = sink.messages().find((m) => m.includes(text));
      return found !== undefined;
    },
    timeoutMs,
  );
  return found!;
}

export function count(sink: SmtpSink, text: string): number {
  return sink.messages().filter((m) => m.includes(text)).length;
}

/**
 * Sends with Python's smtplib and prints what happened as JSON: the refused recipients
 * (smtplib.sendmail's return value) or the exception.
 */
export async function smtplibSend(options: {
  port: number;
  from: string;
  to: string[];
  message: string;
  starttls?: boolean;
  implicitTls?: boolean;
  login?: { user: string; password: string };
  /** The loopback address to connect from (a client other than the test's 127.0.0.1). */
  sourceAddress?: string;
}): Promise<{ ok: boolean; refused?: Record<string, [number, string]>; error?: string; code?: number }> {
  const script = `
import json, smtplib, ssl, sys
o = json.loads(sys.stdin.read())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    src = (o['sourceAddress'], 0) if o.get('sourceAddress') else None
    s = smtplib.SMTP_SSL('127.0.0.1', o['port'], context=ctx, timeout=20, source_address=src) if o.get('implicitTls') else smtplib.SMTP('127.0.0.1', o['port'], timeout=20, source_address=src)
    s.ehlo('python.client.test')
    if o.get('starttls'):
        s.starttls(context=ctx); s.ehlo('python.client.test')
    if o.get('login'):
        s.login(o['login']['user'], o['login']['password'])
    refused = s.sendmail(o['from'], o['to'], o['message'].encode('utf-8'))
    s.quit()
    print(json.dumps({'ok': True, 'refused': {k: [v[0], v[1].decode('utf-8', 'replace')] for k, v in refused.items()}}))
except smtplib.SMTPResponseException as e:
    print(json.dumps({'ok': False, 'code': e.smtp_code, 'error': e.smtp_error.decode('utf-8', 'replace')}))
except smtplib.SMTPRecipientsRefused as e:
    print(json.dumps({'ok': False, 'refused': {k: [v[0], v[1].decode('utf-8', 'replace')] for k, v in e.recipients.items()}}))
except Exception as e:
    print(json.dumps({'ok': False, 'error': repr(e)}))
`;
  const result = await run('python3', ['-c', script], { input: JSON.stringify(options), timeoutMs: 30_000 });
  try {
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as { ok: boolean };
  } catch {
    return { ok: false, error: `python3 said: ${result.stdout}${result.stderr}` };
  }
}

export function rfc822(options: { from: string; to: string; subject: string; body?: string }): string {
  return [
    `From: <${options.from}>`,
    `To: <${options.to}>`,
    `Subject: ${options.subject}`,
    `Message-ID: <${marker()}@client.test>`,
    `Date: ${new Date().toUTCString()}`,
    '',
    options.body ?? 'Hello.',
    '',
  ].join('\r\n');
}
