// The e2e fixtures as images: real peers from this machine's Debian packages (their files and the
// libraries they load) on the same Node runtime layer as the programs, each with a small Node
// launcher that prepares the peer's files on a volume and runs it in the foreground. Less minimal
// than the program images, and still non-root with a read-only root filesystem where the peer
// allows it.
import type { ImageConfig } from './image-metadata.ts';
import type { LayerEntry } from './layer-entries.ts';
import { debianPackageEntries } from './debian-files.ts';
import {
  accountFiles,
  MTOPO_ACCOUNT,
  NODE_PATH,
  nodeRuntimeLayer,
  RUN_AS,
  type Account,
} from './node-runtime.ts';
import { APP_DIR, nodeProgramFiles } from './program-images.ts';

export interface FixtureImage {
  readonly id: string;
  readonly main: string;
  readonly dockerfile: string;
  readonly packages: readonly string[];
  readonly ports: readonly number[];
  readonly mountPoints: readonly string[];
  readonly description: string;
  /** Default 10001:10001. */
  readonly user?: string;
  /** Accounts the peer needs besides mtopo (written over the runtime layer's passwd and group). */
  readonly accounts?: readonly Account[];
  readonly groups?: readonly { name: string; gid: number }[];
}

export const DIRECTORY_PORT = 1389;

export const FIXTURE_IMAGES: readonly FixtureImage[] = [
  {
    id: 'fixture-directory',
    main: 'images/fixtures/directory/main.ts',
    dockerfile: 'images/fixtures/directory/Dockerfile',
    packages: ['slapd'],
    ports: [DIRECTORY_PORT],
    mountPoints: ['/var/lib/mtopo-directory', '/etc/mtopo-fixture'],
    description: 'OpenLDAP slapd with the test mail users',
  },
  {
    id: 'fixture-internet-client',
    main: 'images/fixtures/internet-client/main.ts',
    dockerfile: 'images/fixtures/internet-client/Dockerfile',
    packages: ['curl'],
    ports: [],
    mountPoints: [],
    description: 'a client playing the internet: curl (SMTP, IMAP, POP3) and Node',
  },
  {
    id: 'fixture-legacy-mta',
    main: 'images/fixtures/legacy-mta/main.ts',
    dockerfile: 'images/fixtures/legacy-mta/Dockerfile',
    packages: ['postfix'],
    ports: [2525],
    mountPoints: ['/var/spool/postfix', '/var/lib/mtopo-legacy'],
    description:
      'Postfix playing a legacy mail system: final destination for its domains, Maildirs on a volume',
    // Postfix's master refuses to start as anyone but root; its daemons run as postfix.
    user: '0:0',
    // Postfix refuses to start without its default_privs user, nobody.
    accounts: [
      { name: 'postfix', uid: 101, gid: 101 },
      { name: 'nobody', uid: 65534, gid: 65534 },
    ],
    groups: [{ name: 'postdrop', gid: 102 }],
  },
];

export function fixtureConfig(image: FixtureImage): ImageConfig {
  return {
    entrypoint: [NODE_PATH, `${APP_DIR}/${image.main}`],
    env: { NODE_ENV: 'production', PATH: '/usr/local/bin:/usr/bin:/usr/sbin' },
    user: image.user ?? `${RUN_AS}:${RUN_AS}`,
    workingDir: APP_DIR,
    ...(image.ports.length > 0 ? { exposedPorts: image.ports } : {}),
    labels: {
      'org.opencontainers.image.title': `mtopo-${image.id}`,
      'org.opencontainers.image.description': image.description,
    },
  };
}

export function fixtureLayers(root: string, image: FixtureImage, version: string): LayerEntry[][] {
  return [
    nodeRuntimeLayer(root),
    [
      ...debianPackageEntries(image.packages),
      ...nodeProgramFiles(root, image.id, image.main, version, { allowTestCode: true }),
      ...image.mountPoints.map((path): LayerEntry => ({ type: 'directory', path })),
      ...(image.accounts ? accountFiles([MTOPO_ACCOUNT, ...image.accounts], image.groups) : []),
    ],
  ];
}
