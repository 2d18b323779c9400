// The port catalogue. Containers run unprivileged, so each program listens on a high port and the
// Service maps the well-known port onto it (25 → 2525). The operator's renderer, the firewall model
// and the programs all read this table, so a port is written down once.

export interface PortSpec {
  /** Port name, used for container and Service ports (at most 15 characters). */
  readonly name: string;
  /** What the program listens on inside the pod. */
  readonly container: number;
  /** What the Service exposes, the port clients know. */
  readonly service: number;
}

export const PORTS = {
  smtp: { name: 'smtp', container: 2525, service: 25 },
  submission: { name: 'submission', container: 1587, service: 587 },
  submissions: { name: 'submissions', container: 1465, service: 465 },
  lmtp: { name: 'lmtp', container: 2424, service: 24 },
  imap: { name: 'imap', container: 1143, service: 143 },
  imaps: { name: 'imaps', container: 1993, service: 993 },
  pop3: { name: 'pop3', container: 1110, service: 110 },
  pop3s: { name: 'pop3s', container: 1995, service: 995 },
  http: { name: 'http-metrics', container: 9090, service: 9090 },
} as const satisfies Record<string, PortSpec>;

export type PortKey = keyof typeof PORTS;

/** Where mounted files live inside every container. */
export const PATHS = {
  config: '/etc/mtopo/config/config.json',
  tlsDir: '/etc/mtopo/tls',
  directorySecretDir: '/etc/mtopo/directory',
  directoryCaDir: '/etc/mtopo/directory-ca',
  internalSecretDir: '/etc/mtopo/internal',
  smarthostSecretDir: '/etc/mtopo/smarthost',
  spool: '/var/spool/mtopo',
  mail: '/var/mail/mtopo',
  tmp: '/tmp',
} as const;
