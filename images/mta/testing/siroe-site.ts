// The peers around the MTA tiers of examples/siroe.yaml, on loopback: slapd holding siroe's users,
// one LMTP store (smtp-sink -L) per rendered store replica, a TLS certificate, and the hops map that
// `localize` (rendered-site.ts) needs for those stores. Each protocol test adds the peers its path
// needs (a legacy Postfix, the outbound tier, DNS) and starts the tiers from the rendered configs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DirectoryConfig } from '../../lib/contract/common.ts';
import { directoryConfig } from '../../../testing/peers/directory-fixture.ts';
import { startSlapd, type MailUser, type Slapd } from '../../../testing/peers/slapd.ts';
import { startSmtpSink, type SmtpSink } from '../../../testing/peers/smtp-sink.ts';
import { makeSelfSignedCertificate, type TlsFixture } from '../../../testing/peers/tls-fixture.ts';
import { hopKey, renderedConfig } from './rendered-site.ts';
import { startTogether } from '../../../testing/support/processes.ts';

/** The legacy system of the example (the gateway's route, and legacy users' mailHost). */
export const LEGACY_HOST = 'notes.corp.example';

export const SIROE_USERS: MailUser[] = [
  { uid: 'alice', password: 'alice-pw', mail: 'alice@siroe.example', mailHost: 'siroe-store-0' },
  {
    uid: 'bob',
    password: 'bob-pw',
    mail: 'bob@west.siroe.example',
    mailHost: 'siroe-store-1.siroe-store.mail.svc.cluster.local',
  },
  // Still on the legacy system: the directory says so by a mailHost that names no store.
  { uid: 'dave', password: 'dave-pw', mail: 'dave@siroe.example', mailHost: LEGACY_HOST },
  // Forwards everything outside the site.
  { uid: 'frank', password: 'frank-pw', mail: 'frank@siroe.example', forwardTo: ['frank@elsewhere.example'] },
];

export interface SiroeSite {
  slapd: Slapd;
  /** Store sinks by replica name (siroe-store-0…). */
  stores: Record<string, SmtpSink>;
  tls: TlsFixture;
  /** Hops for `localize`: every rendered store address → its sink. */
  hops: Record<string, number>;
  directory(dir: string): DirectoryConfig;
  stop(): Promise<void>;
}

export async function startSiroeSite(dir: string): Promise<SiroeSite> {
  const inbound = renderedConfig('inbound');
  const replicas = [...new Set(Object.values(inbound.stores).map((s) => s.host))];
  const [slapd, tls, ...sinks] = await startTogether([
    startSlapd(join(dir, 'slapd'), SIROE_USERS),
    makeSelfSignedCertificate(dir, 'mx.siroe.example'),
    ...replicas.map((host) => startSmtpSink(join(dir, host.split('.')[0]!), { lmtp: true })),
  ]);
  const stores: Record<string, SmtpSink> = {};
  const hops: Record<string, number> = {};
  replicas.forEach((host, i) => {
    stores[host.split('.')[0]!] = sinks[i]!;
    const lmtpPort = Object.values(inbound.stores).find((s) => s.host === host)!.lmtpPort;
    hops[hopKey({ host, port: lmtpPort })] = sinks[i]!.port;
  });
  return {
    slapd,
    stores,
    tls,
    hops,
    directory: (d) => {
      mkdirSync(d, { recursive: true });
      return directoryConfig(slapd, d, { cacheTTLSeconds: 2 });
    },
    stop: async () => {
      await Promise.all([slapd.stop(), ...sinks.map((s) => s.stop())]);
    },
  };
}
