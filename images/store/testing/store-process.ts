// Runs the store as the real program (`node images/store/main.ts`) in a child process, with a
// config, a proxy secret and a TLS pair written to a temp folder, for protocol tests. A separate
// process can be killed with SIGKILL and started again on the same data directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreConfig } from '../../lib/contract/store.ts';
import { makeSelfSignedCertificate } from '../../../testing/peers/tls-fixture.ts';
import { freePorts } from '../../../testing/support/free-ports.ts';
import { startProgramProcess, type ProgramProcess } from '../../../testing/support/program-process.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

export const PROXY_USER = 'mmp';
export const PROXY_SECRET = 'the shared secret';
export const DOMAIN = 'siroe.example';

export interface StoreProcess extends ProgramProcess {
  readonly config: StoreConfig;
  readonly ports: { lmtp: number; pop3: number; pop3s: number; imap: number; imaps: number };
  readonly caFile: string;
  /** Starts the program again on the same config and data directory. */
  restart(): Promise<StoreProcess>;
}

export async function startStoreProcess(
  dir: string,
  overrides: Partial<Pick<StoreConfig, 'quota' | 'maxMessageBytes' | 'domains'>> & {
    /** Connections per listener in all and per client address (a benchmark's thousands). */
    maxConnections?: number;
    logLevel?: StoreConfig['common']['logLevel'];
  } = {},
): Promise<StoreProcess> {
  mkdirSync(dir, { recursive: true });
  const tls = await makeSelfSignedCertificate(dir);
  const secretFile = join(dir, 'proxy-password');
  writeFileSync(secretFile, `${PROXY_SECRET}\n`, { mode: 0o600 });
  const [lmtp, pop3, pop3s, http, imap, imaps] = await freePorts(6);
  const limits = {
    proxyProtocol: 'none' as const,
    maxConnections: overrides.maxConnections ?? 1000,
    maxConnectionsPerClient: overrides.maxConnections ?? 500,
  };
  const config: StoreConfig = {
    program: 'store',
    common: {
      hostname: 'store-0.test',
      httpPort: http!,
      logLevel: overrides.logLevel ?? 'info',
      tls,
      drainSeconds: 5,
    },
    listeners: [
      { name: 'lmtp', protocol: 'lmtp', port: lmtp!, tls: 'starttls', ...limits },
      { name: 'pop3', protocol: 'pop3', port: pop3!, tls: 'starttls', ...limits },
      { name: 'pop3s', protocol: 'pop3s', port: pop3s!, tls: 'implicit', ...limits },
      { name: 'imap', protocol: 'imap', port: imap!, tls: 'starttls', ...limits },
      { name: 'imaps', protocol: 'imaps', port: imaps!, tls: 'implicit', ...limits },
    ],
    domains: overrides.domains ?? [DOMAIN],
    dataDir: join(dir, 'data'),
    proxyAuth: { username: PROXY_USER, passwordFile: secretFile },
    maxMessageBytes: overrides.maxMessageBytes ?? 10 * 1024 * 1024,
    quota: overrides.quota ?? {},
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return launch(config, configFile, dir, tls.certFile);
}

async function launch(
  config: StoreConfig,
  configFile: string,
  dir: string,
  caFile: string,
): Promise<StoreProcess> {
  const program = await startProgramProcess({
    name: 'store',
    main: MAIN,
    configFile,
    dir,
    httpPort: config.common.httpPort,
  });
  const port = (name: string) => config.listeners.find((l) => l.name === name)!.port;
  return {
    ...program,
    config,
    ports: {
      lmtp: port('lmtp'),
      pop3: port('pop3'),
      pop3s: port('pop3s'),
      imap: port('imap'),
      imaps: port('imaps'),
    },
    caFile,
    restart: () => launch(config, configFile, dir, caFile),
  };
}
