// examples/siroe.yaml deployed on the test node the way a user deploys it: the programs' images
// imported into the node's containerd, the operator installed by its chart (a pod, with the
// chart's RBAC), the site's Secrets created, the adapted example applied with kubectl and waited
// for with `kubectl wait --for=condition=Ready`. Around it, the world the site names: the
// directory and the legacy system in the outside namespace, on their addresses, and the PROXY
// load balancer on the node. One deployment serves every test of a file (deploying siroe takes
// minutes on this machine).
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { imageSpec, releaseVersion } from '../../images/build/catalogue.ts';
import { importImage, tagImage, writeImageArchive, type ContainerdTarget } from '../../images/build/index.ts';
import { certificateDnsNames } from '../../operator/src/render/certificate.ts';
import { renderSite } from '../../operator/src/render/render.ts';
import type { Site } from '../../operator/src/render/site.ts';
import { loadManifest } from '../../operator/src/render/test-support.ts';
import { kubectl } from '../../testing/control-plane/kubectl.ts';
import { TEST_NAMESPACE_LABEL } from '../../testing/control-plane/namespace.ts';
import { testKubeconfigPath } from '../../testing/control-plane/test-env.ts';
import { helm } from '../../testing/helm/helm.ts';
import type { MailUser } from '../../testing/peers/slapd.ts';
import { ensureNodeBinaries } from '../cluster/node.ts';
import { readNodeState } from '../cluster/node-state.ts';
import { POD_CIDR, SERVICE_CIDR, TEST_INTERNET } from '../cluster/plan.ts';
import { createOutside, type OutsideNetwork } from '../outside/outside-network.ts';
import { startNodeHaproxy, type NodeHaproxy } from './node-haproxy.ts';
import { startOutsideDirectory, type OutsideDirectory } from './outside-directory.ts';
import { startOutsideLegacy, type OutsideLegacy } from './outside-legacy.ts';
import { startInternetMx, type InternetMx } from './internet-mx.ts';
import { siroeOnNode, type NodeAddresses } from './siroe-on-node.ts';
import { makeSitePki, type Pem } from './site-pki.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const SITE_NAMESPACE = 'mail';
export const OPERATOR_NAMESPACE = 'mtopo-system';
export const PROGRAM_IMAGES = ['mta', 'store', 'mmp', 'operator'] as const;

/** Who lives where outside the cluster. */
export const ZONES = {
  directory: ['10.20.0.5', '10.20.0.6'],
  notes: '10.30.5.10',
  internet: '203.0.113.25',
  contractor: '10.40.1.1',
  engineer: '10.50.1.1',
} as const;

export const ADDRESSES: NodeAddresses = {
  clusterCIDRs: [POD_CIDR, SERVICE_CIDR],
  directory: ZONES.directory,
  legacyNotes: ZONES.notes,
  tlsSecretName: 'siroe-tls',
  bindSecretName: 'ldap-bind',
  directoryBaseDN: 'dc=example,dc=test',
  directoryCaSecretName: 'directory-ca',
};

/**
 * The site's mail users: one per store (alice's mail also comes to an alias), and dan, who has no
 * mailbox here and forwards to the test internet.
 */
export const USERS: MailUser[] = [
  {
    uid: 'alice',
    password: 'alice-pw',
    mail: 'alice@siroe.example',
    aliases: ['alice.liddell@siroe.example'],
    mailHost: 'siroe-store-0',
  },
  { uid: 'bob', password: 'bob-pw', mail: 'bob@west.siroe.example', mailHost: 'siroe-store-1' },
  { uid: 'carol', password: 'carol-pw', mail: 'carol@siroe.example', mailHost: 'siroe-store-2' },
  { uid: 'dan', mail: 'dan@siroe.example', forwardTo: [`dan@${TEST_INTERNET.domain}`] },
];

export const LEGACY_DOMAIN = 'legacy.siroe.example';

export interface DeployedSite {
  readonly site: Site;
  readonly outside: OutsideNetwork;
  readonly directory: OutsideDirectory;
  readonly legacy: OutsideLegacy;
  /** The test internet's mail server (the MX of TEST_INTERNET's domain). */
  readonly internetMx: InternetMx;
  readonly haproxy: NodeHaproxy;
  /** The balancer's ports: SMTP to the edge MTA, IMAP, POP3 and submission to the MMP pool. */
  readonly balancer: {
    readonly smtp: number;
    readonly imap: number;
    readonly pop3: number;
    readonly submission: number;
  };
  readonly caFile: string;
  /** The directory's certificate (to start the directory again after a test stopped it). */
  readonly directoryTls: Pem;
  readonly scratch: string;
  /** Seconds from applying the site to its Ready condition. */
  readonly readySeconds: number;
  /** The legacy Postfix's directory (to start it again after a test stopped it). */
  readonly legacyDir: string;
  /** Adds a step to the teardown (run before those of the deployment itself). */
  onTeardown(step: () => Promise<unknown>): void;
  teardown(): Promise<void>;
}

const log = (line: string): void => void process.stderr.write(`site: ${line}\n`);

async function nodeContainerd(): Promise<ContainerdTarget> {
  const state = readNodeState();
  if (state === undefined) throw new Error('no node is running (e2e/global-setup.ts starts one)');
  const binaries = await ensureNodeBinaries();
  return { address: state.containerdSocket, ctr: path.join(binaries.containerd, 'ctr') };
}

async function importProgramImages(scratch: string): Promise<void> {
  const target = await nodeContainerd();
  for (const id of PROGRAM_IMAGES) {
    const spec = imageSpec(ROOT, id);
    const built = await writeImageArchive(spec, path.join(scratch, `${id}.tar`));
    await importImage(built.archive, built.name, target);
    await rm(built.archive, { force: true });
  }
}

function secret(name: string, data: Record<string, string>, type = 'Opaque'): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

async function applyObjects(namespace: string, objects: object[]): Promise<void> {
  await kubectl(['-n', namespace, 'apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

const programImageName = (id: string, tag = releaseVersion(ROOT)) => `localhost/mtopo/${id}:${tag}`;

/** A program's image under another tag on the node, as a new release brings it; its name. */
export async function retagProgramImage(id: string, tag: string): Promise<string> {
  const name = programImageName(id, tag);
  await tagImage(await nodeContainerd(), programImageName(id), name);
  return name;
}

/** `helm upgrade` of the installed chart to this one, with these values over those it has. */
export async function upgradeOperator(values: object): Promise<void> {
  await helm(
    [
      'upgrade',
      'mtopo',
      path.join(ROOT, 'charts/mtopo'),
      '--namespace',
      OPERATOR_NAMESPACE,
      '--reuse-values',
      '--values',
      '-',
      '--wait',
      '--timeout',
      '5m',
    ],
    { input: JSON.stringify(values), kubeconfigPath: testKubeconfigPath(), timeoutMs: 330_000 },
  );
}

/**
 * How the operator's chart goes on: `helm install` (its lookup finds the API server's address for
 * the operator's NetworkPolicy), or as Argo CD installs a chart, `helm template` applied with
 * server-side apply: nothing can be looked up there, so the policy falls back to any address on
 * the API server's usual ports (charts/mtopo/templates/networkpolicy.yaml).
 */
export type OperatorInstall = 'helm' | 'template';

/** Installs the operator's chart; the function that takes it off again. */
export async function installOperator(
  replicas = 1,
  how: OperatorInstall = 'helm',
): Promise<() => Promise<unknown>> {
  const values = JSON.stringify({
    image: { repository: 'localhost/mtopo/operator', tag: releaseVersion(ROOT), pullPolicy: 'Never' },
    images: { mta: programImageName('mta'), store: programImageName('store'), mmp: programImageName('mmp') },
    replicas,
  });
  const kubeconfigPath = testKubeconfigPath();
  const chart = path.join(ROOT, 'charts/mtopo');
  if (how === 'helm') {
    const uninstall = () =>
      helm(['uninstall', 'mtopo', '--namespace', OPERATOR_NAMESPACE, '--wait'], {
        kubeconfigPath,
        check: false,
        timeoutMs: 180_000,
      });
    const args = ['install', 'mtopo', chart, '--namespace', OPERATOR_NAMESPACE, '--create-namespace'];
    await undoneOnFailure(uninstall, () =>
      helm([...args, '--values', '-', '--wait', '--timeout', '5m'], {
        input: values,
        kubeconfigPath,
        timeoutMs: 330_000,
      }),
    );
    return uninstall;
  }
  const args = ['template', 'mtopo', chart, '--namespace', OPERATOR_NAMESPACE, '--skip-tests'];
  const manifest = (await helm([...args, '--values', '-'], { input: values, kubeconfigPath })).stdout;
  const remove = () =>
    kubectl(['delete', '--ignore-not-found', '--wait=true', '-f', '-'], {
      input: manifest,
      check: false,
      timeoutMs: 180_000,
    });
  await undoneOnFailure(remove, async () => {
    await kubectl(['create', 'namespace', OPERATOR_NAMESPACE]);
    await kubectl(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      input: manifest,
    });
    await kubectl(['-n', OPERATOR_NAMESPACE, 'rollout', 'status', 'deployment/mtopo', '--timeout=300s'], {
      timeoutMs: 320_000,
    });
  });
  return remove;
}

async function undoneOnFailure(undo: () => Promise<unknown>, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await undo();
    throw error;
  }
}

export interface DeployOptions {
  /** The operator's replicas (the chart's leader election; 1 by default, as one is enough to converge). */
  readonly operatorReplicas?: number;
  /** The stores' replicas, instead of the example's 3 (the faults start with 2 and scale to 3). */
  readonly storeReplicas?: number;
  /** How the chart is installed (`helm install` by default). */
  readonly operatorInstall?: OperatorInstall;
}

export async function deploySite(options: DeployOptions = {}): Promise<DeployedSite> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'mtopo-site-'));
  // Postfix's daemons (uid postfix) must reach their queue and data under it: traversable, not listable.
  await chmod(scratch, 0o711);
  const docs = siroeOnNode(ADDRESSES);
  if (options.storeReplicas !== undefined) {
    for (const doc of docs)
      if (doc.kind === 'MessagingTopology')
        (doc.spec['stores'] as { replicas: number }).replicas = options.storeReplicas;
  }
  const site = renderSite(loadManifest(docs.map((d) => dump(d)).join('---\n'), 'siroe-on-node')).site;
  const undo: (() => Promise<unknown>)[] = [];
  const teardown = async () => {
    for (const step of undo.reverse()) await step().catch((e: unknown) => log(`teardown: ${String(e)}`));
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    let started = Date.now();
    const pki = await makeSitePki(scratch, certificateDnsNames(site), ZONES.directory);
    const outside = await createOutside({
      addresses: [...ZONES.directory, ZONES.notes, ZONES.internet, ZONES.contractor, ZONES.engineer],
      clusterRanges: [POD_CIDR, SERVICE_CIDR],
    });
    undo.push(() => outside.delete());
    const directory = await startOutsideDirectory(
      outside,
      path.join(scratch, 'directory'),
      ZONES.directory,
      USERS,
      pki.directory,
    );
    undo.push(() => directory.stop());
    const legacyDir = path.join(scratch, 'legacy');
    const legacy = await startOutsideLegacy(outside, legacyDir, ZONES.notes, [LEGACY_DOMAIN]);
    undo.push(() => legacy.stop());
    const internetMx = await startInternetMx(outside, ZONES.internet, path.join(scratch, 'internet'));
    undo.push(() => internetMx.stop());
    log(`outside world up in ${((Date.now() - started) / 1000).toFixed(1)}s`);

    started = Date.now();
    await importProgramImages(scratch);
    log(`images imported in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    started = Date.now();
    undo.push(() =>
      kubectl(['delete', 'namespace', OPERATOR_NAMESPACE, '--wait=true'], {
        check: false,
        timeoutMs: 180_000,
      }),
    );
    const uninstall = await installOperator(options.operatorReplicas ?? 1, options.operatorInstall);
    undo.push(uninstall);
    log(`operator installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);

    await kubectl(['create', 'namespace', SITE_NAMESPACE]);
    // The site's pods go before the world they talk to (undo runs in reverse).
    undo.push(() =>
      kubectl(['delete', 'namespace', SITE_NAMESPACE, '--wait=true'], { check: false, timeoutMs: 300_000 }),
    );
    await kubectl(['label', 'namespace', SITE_NAMESPACE, `${TEST_NAMESPACE_LABEL}=true`]);
    const ca = readFileSync(pki.caFile, 'utf8');
    await applyObjects(SITE_NAMESPACE, [
      secret(
        ADDRESSES.tlsSecretName,
        {
          'tls.crt': readFileSync(pki.site.certFile, 'utf8'),
          'tls.key': readFileSync(pki.site.keyFile, 'utf8'),
          'ca.crt': ca,
        },
        'kubernetes.io/tls',
      ),
      secret(ADDRESSES.bindSecretName, {
        bindDN: directory.layout.serviceDN,
        password: directory.layout.servicePassword,
      }),
      secret(ADDRESSES.directoryCaSecretName, { 'ca.crt': ca }),
    ]);
    started = Date.now();
    await kubectl(['apply', '-f', '-'], { input: docs.map((d) => dump(d)).join('---\n') });
    await kubectl(
      [
        '-n',
        SITE_NAMESPACE,
        'wait',
        '--for=condition=Ready',
        `messagingtopology/${site.topology.metadata.name}`,
        '--timeout=900s',
      ],
      { timeoutMs: 920_000 },
    );
    const readySeconds = (Date.now() - started) / 1000;
    log(`site Ready in ${readySeconds.toFixed(1)}s`);

    const serviceAddress = (name: string, path: string) =>
      kubectl(['-n', SITE_NAMESPACE, 'get', 'service', name, '-o', `jsonpath=${path}`]).then((r) =>
        r.stdout.trim(),
      );
    const edge = await serviceAddress('edge-mta', '{.status.loadBalancer.ingress[0].ip}');
    const pool = await serviceAddress('access-mmp', '{.spec.clusterIP}');
    const balancer = { smtp: 25, imap: 143, pop3: 110, submission: 587 };
    const haproxy = await startNodeHaproxy(outside, path.join(scratch), ZONES.internet, [
      { name: 'edge', port: balancer.smtp, backend: { host: edge, port: 25 } },
      { name: 'access-imap', port: balancer.imap, backend: { host: pool, port: 143 } },
      { name: 'access-pop3', port: balancer.pop3, backend: { host: pool, port: 110 } },
      { name: 'access-submission', port: balancer.submission, backend: { host: pool, port: 587 } },
    ]);
    undo.push(() => haproxy.stop());
    return {
      site,
      outside,
      directory,
      legacy,
      internetMx,
      haproxy,
      balancer,
      caFile: pki.caFile,
      directoryTls: pki.directory,
      scratch,
      readySeconds,
      legacyDir,
      onTeardown: (step) => void undo.push(step),
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}
