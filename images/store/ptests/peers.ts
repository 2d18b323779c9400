// Real POP3 clients driven from the protocol tests: Python's poplib (a script per call, so every
// test states exactly what the client does) and curl.
import { run } from '../../../testing/support/processes.ts';
import { PROXY_SECRET, PROXY_USER } from '../testing/store-process.ts';

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
