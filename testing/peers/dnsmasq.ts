// dnsmasq (Debian's dnsmasq-base) as a private DNS server on a free loopback port, for tests of MX
// delivery against real DNS answers: MX records with preferences, A and AAAA records, and NXDOMAIN
// for every other name in the zones it serves. Nothing is forwarded (--no-resolv): a name outside
// the test's zones gets REFUSED, never the machine's real resolver.
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/free-ports.ts';
import { ManagedProcess } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

export interface DnsZoneData {
  /** Domains answered from this data alone: unknown names in them are NXDOMAIN. */
  zones: string[];
  mx?: { domain: string; host: string; preference: number }[];
  /** Name → addresses (IPv4 and IPv6 mixed). */
  hosts?: Record<string, string[]>;
}

export interface Dnsmasq {
  port: number;
  /** For a resolver: "127.0.0.1:PORT". */
  server: string;
  process: ManagedProcess;
  /** The queries it was asked, from its log. */
  queries(): string[];
  stop(): Promise<void>;
}

export async function startDnsmasq(dir: string, data: DnsZoneData): Promise<Dnsmasq> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logFile = join(dir, 'queries.log');
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--pid-file',
    '--log-queries',
    `--log-facility=${logFile}`,
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ...data.zones.map((z) => `--local=/${z}/`),
    ...(data.mx ?? []).map((m) => `--mx-host=${m.domain},${m.host},${m.preference}`),
    ...Object.entries(data.hosts ?? {}).map(
      ([name, addresses]) => `--host-record=${name},${addresses.join(',')}`,
    ),
  ];
  const proc = ManagedProcess.spawn('dnsmasq', '/usr/sbin/dnsmasq', args, {
    logFile: join(dir, 'dnsmasq.log'),
  });
  const server = `127.0.0.1:${port}`;
  // Ready when it answers: ask it for a name in its zone (NXDOMAIN is an answer).
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([server]);
  await waitFor(
    'dnsmasq to answer',
    async () => {
      if (!proc.running) throw new Error(`dnsmasq exited: ${readFileSync(join(dir, 'dnsmasq.log'), 'utf8')}`);
      try {
        await resolver.resolve4(`probe.${data.zones[0] ?? 'test'}`);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ENOTFOUND';
      }
    },
    10_000,
  );
  return {
    port,
    server,
    process: proc,
    queries: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((l) => / query\[/.test(l))
        : [],
    stop: () => proc.stop(5000),
  };
}
