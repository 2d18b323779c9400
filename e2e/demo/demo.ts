// `make demo`: a newcomer's first command. It builds what the node needs (the first time, with
// build.sh's progress), starts the single-node cluster, deploys examples/siroe.yaml the way a user
// would (images imported, operator by its chart, Secrets, kubectl apply, kubectl wait), sends a
// message from the "internet" and reads it back through the MMP pool — with the very command lines
// it then prints for trying by hand — and stays up until Ctrl-C or `make demo-down`, when it takes
// everything down and leaves the machine as it was. It is the end-to-end suite's deployment
// (e2e/site/deploy-site.ts), so what the demo shows is what `make e2e` proves.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { publishedHostnames } from '../../operator/src/render/site.ts';
import { BIN_DIR_ENV, KUBECONFIG_ENV } from '../../testing/control-plane/test-env.ts';
import { run, untilInterrupted } from '../../testing/support/processes.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { ensureNodeBinaries, startNode, type RunningNode } from '../cluster/node.ts';
import { deploySite, SITE_NAMESPACE, USERS, ZONES, type DeployedSite } from '../site/deploy-site.ts';
import { imapCommand, searchUids, sendMailCommand } from '../site/mail-clients.ts';
import { shellLine } from './shell-words.ts';

const STEPS = 5;
let stepNumber = 0;
const step = (text: string): void =>
  void process.stderr.write(`\n\x1b[1m[${(stepNumber += 1)}/${STEPS}] ${text}\x1b[0m\n`);
const log = (line: string): void => void process.stderr.write(`  ${line}\n`);

if (process.getuid?.() !== 0) {
  process.stderr.write(
    'make demo needs root: the node runs in a network namespace of its own, with cgroups and containerd (see docs/e2e.md)\n',
  );
  process.exit(2);
}

let node: RunningNode | undefined;
let site: DeployedSite | undefined;
let stopping = false;

/** Takes down what is up, in reverse order; safe to call from a signal at any step. */
async function takeDown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    process.stderr.write('\nmtopo demo: taking the site and the node down\n');
    await site?.teardown().catch((e: unknown) => log(`site teardown: ${String(e)}`));
    const report = await node?.stop();
    if (report !== undefined && report.problems.length > 0) {
      log(`could not undo:\n${report.problems.join('\n')}`);
      code ||= 1;
    }
    process.stderr.write('mtopo demo: stopped; the machine is as it was\n');
  }
  process.exit(code);
}
// Until the site is up, a signal means "stop now"; afterwards untilInterrupted takes it.
const onSignal = (): void => void takeDown(130);
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

try {
  step('Building the node and its tools (the first time: about 40 minutes on 2 cores; later: seconds)');
  const binaries = await ensureNodeBinaries();

  step('Starting a single-node Kubernetes cluster in the network namespace mtopo-e2e');
  node = await startNode({ log });
  process.env[KUBECONFIG_ENV] = node.kubeconfigPath;
  process.env[BIN_DIR_ENV] = binaries.cluster;
  log(`node Ready in ${node.timings.nodeReady}s`);

  step('Deploying examples/siroe.yaml: images, the operator chart, the directory, the site (a few minutes)');
  site = await deploySite();

  step(`Sending a message from the internet (${ZONES.internet}) to alice@siroe.example`);
  const subject = `hello from the demo ${randomBytes(3).toString('hex')}`;
  const send = sendMailCommand(
    site.outside,
    ZONES.internet,
    { host: site.haproxy.address, port: site.balancer.smtp },
    { from: 'someone@example.org', to: 'alice@siroe.example', subject, body: 'Sent by make demo.' },
  );
  log(`$ ${shellLine(...send)}`);
  const sent = await run(...send, { timeoutMs: 90_000 });
  if (sent.code !== 0)
    throw new Error(`the edge MTA did not accept the message:\n${sent.stdout}${sent.stderr}`);
  log(sent.stdout.split('\n').find((l) => / 250 .*queued|250 2\.0\.0/i.test(l)) ?? 'accepted (250)');

  step('Reading it back through the MMP pool (IMAP, STARTTLS, the site CA)');
  const alice = USERS.find((u) => u.uid === 'alice')!;
  const account = {
    user: alice.uid,
    password: alice.password ?? '',
    hostname: publishedHostnames(site.site).clients,
    caFile: site.caFile,
  };
  const imapServer = { host: site.haproxy.address, port: site.balancer.imap };
  const search = imapCommand(site.outside, ZONES.contractor, imapServer, account, {
    path: 'INBOX',
    command: `UID SEARCH SUBJECT "${subject}"`,
  });
  log(`$ ${shellLine(...search)}`);
  const uid = await waitFor(
    'the message in alice’s INBOX',
    async () => {
      const found = await run(...search, { timeoutMs: 60_000 });
      if (found.code !== 0) throw new Error(found.stderr);
      return searchUids(found.stdout).at(-1);
    },
    { timeoutMs: 180_000, intervalMs: 1000 },
  );
  const fetch = imapCommand(site.outside, ZONES.contractor, imapServer, account, {
    path: `INBOX;UID=${uid}`,
  });
  log(`$ ${shellLine(...fetch)}`);
  const fetched = await run(...fetch, { timeoutMs: 60_000 });
  if (fetched.code !== 0) throw new Error(`reading the message failed: ${fetched.stderr}`);
  const subjectLine = fetched.stdout.split(/\r?\n/).find((l) => l.startsWith('Subject:'));
  log(`read back: ${subjectLine ?? '(no Subject line?)'}`);

  const kubeconfig = node.kubeconfigPath;
  const kubectlPath = path.join(binaries.cluster, 'kubectl');
  process.stdout.write(`
mtopo demo: the siroe site runs. Try, in another terminal:

  export KUBECONFIG=${kubeconfig} PATH=${binaries.cluster}:$PATH
  kubectl get mtopo,mta,mmp -n ${SITE_NAMESPACE}
  kubectl describe mtopo ${site.site.topology.metadata.name} -n ${SITE_NAMESPACE}
  kubectl get pods,svc,networkpolicy -n ${SITE_NAMESPACE}
  kubectl logs -n ${SITE_NAMESPACE} statefulset/edge-mta      # one JSON line per transaction
  npx mtopo status ${site.site.topology.metadata.name} -n ${SITE_NAMESPACE}        # or: kubectl mtopo status …, with node_modules/.bin on PATH
  npx mtopo diagram ${site.site.topology.metadata.name} -n ${SITE_NAMESPACE} --format svg --out out/siroe.svg

Send and read mail by hand, from the internet's and a contractor's address (users: ${USERS.filter(
    (u) => u.password !== undefined,
  )
    .map((u) => `${u.uid}/${u.password}`)
    .join(', ')}):

  ${shellLine(...send)}
  ${shellLine(...search)}
  ${shellLine(...fetch)}

Stop with Ctrl-C here, or \`make demo-down\` from another terminal.
(${kubectlPath} is the cluster's own kubectl.)
`);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  await untilInterrupted();
  await takeDown(0);
} catch (error) {
  process.stderr.write(`\nmtopo demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await takeDown(1);
}
