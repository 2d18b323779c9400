// Real clients driven from the store's protocol tests: Python's poplib (a script per call, so every
// test states exactly what the client does), curl, smtplib; and a Postfix relaying to the store.
import { startPostfix, type Postfix } from '../../../testing/peers/postfix.ts';
import { run } from '../../../testing/support/processes.ts';
import { waitFor } from '../../../testing/support/wait.ts';
import { DOMAIN, PROXY_SECRET, PROXY_USER, type StoreProcess } from '../testing/store-process.ts';

export interface PoplibOptions {
  port: number;
  user: string;
  /** 'plain': POP3 on the port; 'stls': STLS first; 'ssl': implicit TLS (POP3_SSL). */
  tls: 'plain' | 'stls' | 'ssl';
  caFile?: string;
  /** Python statements with `p` the logged-in client; print what the test reads (JSON). */
  body: string;
}

/** Runs poplib, logged in as the MMP would (USER user*proxy, PASS secret); returns stdout. */
export async function poplib(options: PoplibOptions): Promise<string> {
  const connect =
    options.tls === 'ssl'
      ? `p = poplib.POP3_SSL('127.0.0.1', ${options.port}, context=ctx)`
      : `p = poplib.POP3('127.0.0.1', ${options.port})${options.tls === 'stls' ? '\np.stls(context=ctx)' : ''}`;
  const script = `
import json, poplib, ssl, sys
ctx = ssl.create_default_context(cafile=${JSON.stringify(options.caFile ?? null)}) if ${JSON.stringify(options.caFile ?? '')} else None
${connect}
p.user(${JSON.stringify(`${options.user}*${PROXY_USER}`)})
p.pass_(${JSON.stringify(PROXY_SECRET)})
${options.body}
`;
  const result = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`poplib failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** curl against the store's POP3; `path` is "/" (LIST), "/N" (RETR N) or -X for others. */
export async function curlPop3(
  port: number,
  user: string,
  path: string,
  extra: string[] = [],
): Promise<string> {
  const result = await run(
    'curl',
    [
      '-sS',
      '--max-time',
      '30',
      `pop3://127.0.0.1:${port}${path}`,
      '--user',
      `${user}*${PROXY_USER}:${PROXY_SECRET}`,
      ...extra,
    ],
    { timeoutMs: 60_000 },
  );
  if (result.code !== 0) throw new Error(`curl failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Sends one message over SMTP with Python's smtplib (what a plain client does); throws on failure. */
export async function smtplibSend(port: number, from: string, to: string[], message: string): Promise<void> {
  const sent = await run(
    'python3',
    [
      '-c',
      `import smtplib,sys\ns=smtplib.SMTP('127.0.0.1', ${port})\ns.sendmail(${JSON.stringify(from)}, ${JSON.stringify(to)}, sys.stdin.buffer.read())\ns.quit()`,
    ],
    { input: message },
  );
  if (sent.code !== 0) throw new Error(`smtplib failed (${sent.code}): ${sent.stderr}`);
}

/**
 * A message that tests byte-exact delivery: 8-bit UTF-8 body, an encoded-word subject, lines that
 * start with dots (dot-stuffing both ways), a long line. `extraBody` lines go before the last one.
 */
export function eightBitMessage(to: string, messageId: string, extraBody: string[] = []): string {
  return [
    'From: Ana <ana@remote.example>',
    `To: ${to}`,
    'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    `Message-ID: <${messageId}@remote.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    '.a line that starts with a dot',
    '..and one with two',
    'Grüße aus Köln',
    'x'.repeat(900),
    ...extraBody,
    'end',
    '',
  ].join('\r\n');
}

/** A Postfix that relays the store's domain to its LMTP listener, with STARTTLS required. */
export function startPostfixToStore(dir: string, store: StoreProcess): Promise<Postfix> {
  return startPostfix(dir, {
    relayDomains: [DOMAIN],
    nextHop: { host: '127.0.0.1', port: store.ports.lmtp },
    mainCf: {
      relay_transport: `lmtp:inet:127.0.0.1:${store.ports.lmtp}`,
      lmtp_tls_security_level: 'encrypt',
      lmtp_tls_loglevel: '1',
    },
  });
}

/** Waits until Postfix's queue is empty and it logged a delivery. */
export function postfixDelivered(postfix: Postfix): Promise<unknown> {
  return waitFor(
    'Postfix to deliver to the store',
    async () => (await postfix.queueSize()) === 0 && /status=sent/.test(postfix.maillog()),
    { timeoutMs: 60_000 },
  );
}
