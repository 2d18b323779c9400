// Real mail clients in the outside namespace, each connecting from a zone's address: swaks sends
// (SMTP), curl reads (IMAP with STARTTLS, checking the site's certificate for its published client
// host name against the site's CA).
import { run } from '../../testing/support/processes.ts';
import type { OutsideNetwork } from '../outside/outside-network.ts';

export interface Sent {
  readonly accepted: boolean;
  readonly transcript: string;
}

export interface Message {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly body?: string;
}

export async function sendMail(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  message: Message,
  /** Submission: STARTTLS, then AUTH PLAIN as this user. */
  auth?: { user: string; password: string },
): Promise<Sent> {
  const [command, args] = sendMailCommand(outside, source, server, message, auth);
  const result = await run(command, args, { timeoutMs: 90_000 });
  return { accepted: result.code === 0, transcript: `${result.stdout}${result.stderr}` };
}

/** The swaks command line sendMail runs (also what `make demo` prints for sending by hand). */
export function sendMailCommand(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  message: Message,
  auth?: { user: string; password: string },
): [string, string[]] {
  return outside.wrap('/usr/bin/swaks', [
    '--server',
    `${server.host}:${server.port}`,
    '--local-interface',
    source,
    '--helo',
    'client.example.org',
    '--from',
    message.from,
    '--to',
    message.to,
    '--header',
    `Subject: ${message.subject}`,
    '--body',
    message.body ?? `a message for ${message.to}\n`,
    '--timeout',
    '60',
    ...(auth ? ['--tls', '--auth', 'PLAIN', '--auth-user', auth.user, '--auth-password', auth.password] : []),
  ]);
}

export interface ImapAccount {
  readonly user: string;
  readonly password: string;
  /** The published client host name the certificate carries. */
  readonly hostname: string;
  readonly caFile: string;
}

/** Runs one IMAP request with curl (`UID SEARCH …`, or a fetch by URL path); stdout, or undefined on failure. */
export async function imap(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  account: ImapAccount,
  request: { path: string; command?: string },
): Promise<{ ok: boolean; out: string }> {
  const [command, args] = imapCommand(outside, source, server, account, request);
  const result = await run(command, args, { timeoutMs: 60_000 });
  return { ok: result.code === 0, out: result.code === 0 ? result.stdout : result.stderr };
}

/** The curl command line `imap` runs (also what `make demo` prints for reading by hand). */
export function imapCommand(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  account: ImapAccount,
  request: { path: string; command?: string },
): [string, string[]] {
  const { hostname } = account;
  return outside.wrap('/usr/bin/curl', [
    '--silent',
    '--show-error',
    '--max-time',
    '30',
    '--interface',
    source,
    '--connect-to',
    `${hostname}:${server.port}:${server.host}:${server.port}`,
    '--ssl-reqd',
    '--cacert',
    account.caFile,
    '--user',
    `${account.user}:${account.password}`,
    `imap://${hostname}:${server.port}/${request.path}`,
    ...(request.command ? ['-X', request.command] : []),
  ]);
}

/** The UIDs of the INBOX messages whose Subject holds `subject` (`UID SEARCH`); throws when curl fails. */
export async function searchInbox(
  outside: OutsideNetwork,
  source: string,
  server: { host: string; port: number },
  account: ImapAccount,
  subject: string,
): Promise<number[]> {
  const found = await imap(outside, source, server, account, {
    path: 'INBOX',
    command: `UID SEARCH SUBJECT "${subject}"`,
  });
  if (!found.ok) throw new Error(found.out);
  return searchUids(found.out);
}

/** The UIDs a `UID SEARCH` answer lists. */
export function searchUids(answer: string): number[] {
  const line = answer.split(/\r?\n/).find((l) => l.startsWith('* SEARCH'));
  return line === undefined
    ? []
    : line
        .slice('* SEARCH'.length)
        .trim()
        .split(/\s+/)
        .filter((t) => t !== '')
        .map(Number);
}
