// The images of the four programs: the Node runtime layer, then one layer with the program's
// source files (compiled to .js at build time by Node's own type stripper: compile-module.ts) and
// its production packages, under /opt/mtopo in the repository's own layout so relative imports and
// node_modules lookups work unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATHS, PORTS, type PortKey } from '../lib/contract/ports.ts';
import { checkPinnedNode, compiledName, compileModule } from './compile-module.ts';
import type { ImageConfig } from './image-metadata.ts';
import type { LayerEntry } from './layer-entries.ts';
import { NODE_PATH, nodeRuntimeLayer, RUN_AS } from './node-runtime.ts';
import { packageFiles, programClosure } from './program-closure.ts';

export const APP_DIR = '/opt/mtopo';

export interface ProgramImage {
  /** The image's short name: localhost/mtopo/<id>:<version>. */
  readonly id: string;
  /** Entry point, relative to the repository root. */
  readonly main: string;
  /**
   * Commands an operator runs in the pod with `kubectl exec` (docs/mmp.md, "Moving a user"): their
   * closures ship beside the program's, compiled the same way.
   */
  readonly tools?: readonly string[];
  /** Where the program's Dockerfile lives, relative to the repository root. */
  readonly dockerfile: string;
  /** Ports the program listens on (the operator's container ports; EXPOSE documents them). */
  readonly ports: readonly number[];
  /** Empty directories the pod mounts volumes onto (they exist so a bare runtime can mount there too). */
  readonly mountPoints: readonly string[];
}

const port = (...keys: PortKey[]): number[] => keys.map((key) => PORTS[key].container);
const MOUNTED = [PATHS.config.slice(0, PATHS.config.lastIndexOf('/')), PATHS.tlsDir];
/** The operator's health port (its --health-port default and the chart's healthPort). */
export const OPERATOR_HEALTH_PORT = 8081;

export const PROGRAM_IMAGES: readonly ProgramImage[] = [
  {
    id: 'mta',
    main: 'images/mta/main.ts',
    dockerfile: 'images/mta/Dockerfile',
    ports: port('smtp', 'submission', 'submissions', 'http'),
    mountPoints: [
      ...MOUNTED,
      PATHS.directorySecretDir,
      PATHS.internalSecretDir,
      PATHS.smarthostSecretDir,
      PATHS.spool,
    ],
  },
  {
    id: 'store',
    main: 'images/store/main.ts',
    dockerfile: 'images/store/Dockerfile',
    ports: port('lmtp', 'imap', 'imaps', 'pop3', 'pop3s', 'http'),
    mountPoints: [...MOUNTED, PATHS.internalSecretDir, PATHS.mail],
  },
  {
    id: 'mmp',
    main: 'images/mmp/main.ts',
    tools: ['images/mmp/end-sessions.ts', 'images/mmp/copy-mailbox.ts'],
    dockerfile: 'images/mmp/Dockerfile',
    ports: port('imap', 'imaps', 'pop3', 'pop3s', 'submission', 'submissions', 'http'),
    mountPoints: [...MOUNTED, PATHS.directorySecretDir, PATHS.directoryCaDir, PATHS.internalSecretDir],
  },
  {
    id: 'operator',
    main: 'operator/src/reconcile/main.ts',
    dockerfile: 'images/operator/Dockerfile',
    ports: [OPERATOR_HEALTH_PORT],
    mountPoints: ['/var/run/secrets/kubernetes.io/serviceaccount'],
  },
];

export function programImage(id: string): ProgramImage {
  const image = PROGRAM_IMAGES.find((candidate) => candidate.id === id);
  if (!image)
    throw new RangeError(`no program image ${id}; known: ${PROGRAM_IMAGES.map((i) => i.id).join(', ')}`);
  return image;
}

export function programConfig(image: ProgramImage): ImageConfig {
  return {
    entrypoint: [NODE_PATH, `${APP_DIR}/${compiledName(image.main)}`],
    env: { NODE_ENV: 'production', PATH: '/usr/local/bin:/usr/bin' },
    user: `${RUN_AS}:${RUN_AS}`,
    workingDir: APP_DIR,
    exposedPorts: image.ports,
    labels: {
      'org.opencontainers.image.title': `mtopo-${image.id}`,
      'org.opencontainers.image.licenses': 'Apache-2.0',
    },
  };
}

/**
 * A Node program's files under /opt/mtopo: its sources, its packages, a package.json saying "ESM".
 * `compile`: the sources as JavaScript (compile-module.ts), as the program images ship them; the
 * fixtures ship theirs as written.
 */
export function nodeProgramFiles(
  root: string,
  id: string,
  main: string | readonly string[],
  version: string,
  options: { allowTestCode?: boolean; compile?: boolean } = {},
): LayerEntry[] {
  const closure = programClosure(root, main, options);
  if (options.compile) checkPinnedNode(root);
  const sources = closure.sourceFiles.map((file): LayerEntry =>
    options.compile
      ? {
          type: 'file',
          path: `${APP_DIR}/${compiledName(file)}`,
          content: compileModule(file, readFileSync(join(root, file), 'utf8')),
        }
      : { type: 'file', path: `${APP_DIR}/${file}`, source: join(root, file) },
  );
  return [
    ...sources,
    ...closure.packageDirs
      .flatMap((dir) => packageFiles(root, dir))
      .map((file): LayerEntry => ({ type: 'file', path: `${APP_DIR}/${file}`, source: join(root, file) })),
    {
      type: 'file',
      path: `${APP_DIR}/package.json`,
      content: `${JSON.stringify({ name: `mtopo-${id}`, version, private: true, type: 'module' }, null, 2)}\n`,
    },
  ];
}

/** The program layer: its files and the mount points its pods mount volumes onto. */
export function programLayer(root: string, image: ProgramImage, version: string): LayerEntry[] {
  return [
    ...nodeProgramFiles(root, image.id, [image.main, ...(image.tools ?? [])], version, { compile: true }),
    ...image.mountPoints.map((path): LayerEntry => ({ type: 'directory', path })),
  ];
}

export function programLayers(root: string, image: ProgramImage, version: string): LayerEntry[][] {
  return [nodeRuntimeLayer(root), programLayer(root, image, version)];
}
