// Each image runs from its own rootfs: extracted, mounted read-only, entered as uid 10001 with only
// the image's environment, its own Node and glibc. Each program must start, listen and answer its
// health checks; the store also takes a message over LMTP into its mailbox volume; the fixtures
// serve (slapd) or hold their clients (curl). Each Dockerfile's build stage stages the same tree,
// and a build twice from the same tree gives the same digests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { MmpConfig } from '../lib/contract/mmp.ts';
import type { StoreConfig } from '../lib/contract/store.ts';
import { localize, renderedMmpConfig } from '../mmp/testing/rendered-config.ts';
import { testConfig } from '../mta/testing/test-config.ts';
import { makeSelfSignedCertificate } from '../../testing/peers/tls-fixture.ts';
import { freePorts } from '../../testing/support/free-ports.ts';
import { run, type ManagedProcess, type RunResult } from '../../testing/support/processes.ts';
import { makeTempDir } from '../../testing/support/temp-dir.ts';
import { waitFor } from '../../testing/support/wait.ts';
import { imageSpec, RECIPES } from './catalogue.ts';
import { parseStages, words } from './dockerfile.ts';
import { writeImageArchive, type BuiltImage } from './oci-archive.ts';
import {
  extractImage,
  rootfsRunUnavailable,
  startInRootfs,
  type ExtractedImage,
} from './testing/image-rootfs.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_AS = 10001;
const CONFIG_DIR = '/etc/mtopo/config';

const dir = makeTempDir('program-images');
after(() => dir.remove());

const builds = new Map<string, Promise<{ archive: BuiltImage; image: ExtractedImage }>>();

/** Each image is built and extracted once for all tests of this file. */
function build(id: string): Promise<{ archive: BuiltImage; image: ExtractedImage }> {
  let result = builds.get(id);
  if (!result) {
    result = writeImageArchive(imageSpec(ROOT, id), join(dir.path, `${id}.tar`)).then(async (archive) => ({
      archive,
      image: await extractImage(archive.archive, join(dir.path, id)),
    }));
    builds.set(id, result);
  }
  return result;
}

async function built(id: string): Promise<ExtractedImage> {
  return (await build(id)).image;
}

/** Every path below `root` with what a layout comparison looks at: type, mode, owner, size, content or target. */
function layout(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const path of readdirSync(root, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = join(root, path);
    const info = lstatSync(full);
    const base = `${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid}`;
    if (info.isSymbolicLink()) out.set(path, `symlink ${readlinkSync(full)}`);
    else if (info.isDirectory()) out.set(path, `dir ${base}`);
    else
      out.set(
        path,
        `file ${base} ${info.size} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`,
      );
  }
  return out;
}

/** A folder bound at /etc/mtopo/config: the config, a certificate, secrets; readable by the image's user. */
async function configFolder(
  id: string,
  extra: Record<string, string> = {},
): Promise<{ host: string; tls: { certFile: string; keyFile: string } }> {
  const host = join(dir.path, `${id}-config`);
  mkdirSync(host, { recursive: true });
  await makeSelfSignedCertificate(host);
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(host, name), content);
  for (const name of readdirSync(host)) chmodSync(join(host, name), 0o644);
  return { host, tls: { certFile: `${CONFIG_DIR}/tls.crt`, keyFile: `${CONFIG_DIR}/tls.key` } };
}

function writableVolume(name: string): string {
  const host = join(dir.path, name);
  mkdirSync(host, { recursive: true });
  chownSync(host, RUN_AS, RUN_AS);
  return host;
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no greeting within 10 s')));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

async function httpStatus(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  await response.arrayBuffer();
  return response.status;
}

async function untilReady(proc: ManagedProcess, port: number, path: string): Promise<void> {
  await waitFor(`${path} on ${port} to answer 200`, async () => (await httpStatus(port, path)) === 200, {
    timeoutMs: 60_000,
    abortIf: () => (proc.hasExited() ? `the program exited:\n${proc.logTail()}` : undefined),
  });
}

async function stopCleanly(proc: ManagedProcess): Promise<void> {
  await proc.stop(30_000);
  assert.equal(await proc.exitStatus, 0, `exit status; log:\n${proc.logTail()}`);
}

describe('program images run from their own read-only rootfs', { skip: rootfsRunUnavailable() }, () => {
  test('the store listens, reports ready and takes a message into its mailbox volume', async () => {
    const image = await built('store');
    const [lmtp, imap, http] = await freePorts(3);
    const { host, tls } = await configFolder('store', { 'proxy-password': 'secret\n' });
    const mail = writableVolume('store-mail');
    const limits = { proxyProtocol: 'none' as const, maxConnections: 100, maxConnectionsPerClient: 50 };
    const config: StoreConfig = {
      program: 'store',
      common: { hostname: 'store-0.test', httpPort: http!, logLevel: 'info', tls, drainSeconds: 2 },
      listeners: [
        { name: 'lmtp', protocol: 'lmtp', port: lmtp!, tls: 'starttls', ...limits },
        { name: 'imap', protocol: 'imap', port: imap!, tls: 'starttls', ...limits },
      ],
      domains: ['siroe.example'],
      dataDir: '/var/mail/mtopo',
      proxyAuth: { username: 'mmp', passwordFile: `${CONFIG_DIR}/proxy-password` },
      maxMessageBytes: 1024 * 1024,
      quota: {},
    };
    writeFileSync(join(host, 'config.json'), JSON.stringify(config));
    const proc = startInRootfs(image, {
      args: ['serve', '--config', `${CONFIG_DIR}/config.json`, '--listen-host', '127.0.0.1'],
      binds: [
        { host, target: CONFIG_DIR, readOnly: true },
        { host: mail, target: '/var/mail/mtopo' },
      ],
      logFile: join(dir.path, 'store.log'),
    });
    try {
      await untilReady(proc, http!, '/readyz');
      assert.match(await greeting(lmtp!), /^220 /);
      assert.match(await greeting(imap!), /^\* OK/);
      const transcript = await lmtpSend(lmtp!, 'alice@siroe.example');
      assert.match(transcript, /250[^\n]*\r\n221/, transcript);
      await waitFor('the message in the mailbox volume', () =>
        listTree(mail).some((path) => /alice/.test(path)),
      );
    } finally {
      await stopCleanly(proc);
    }
  });

  test('the MTA listens for SMTP and reports ready, its spool on the volume', async () => {
    const image = await built('mta');
    const [smtp, http] = await freePorts(2);
    const { host, tls } = await configFolder('mta');
    const spool = writableVolume('mta-spool');
    const config = testConfig('internet', {
      common: { httpPort: http!, tls, drainSeconds: 2 },
      listeners: [
        {
          name: 'smtp',
          protocol: 'smtp',
          port: smtp!,
          tls: 'starttls',
          proxyProtocol: 'none',
          maxConnections: 10,
          maxConnectionsPerClient: 5,
        },
      ],
      queue: { dir: '/var/spool/mtopo' },
    });
    writeFileSync(join(host, 'config.json'), JSON.stringify(config));
    const proc = startInRootfs(image, {
      args: [
        'serve',
        '--config',
        `${CONFIG_DIR}/config.json`,
        '--listen-host',
        '127.0.0.1',
        '--dns-server',
        '127.0.0.1:9',
      ],
      binds: [
        { host, target: CONFIG_DIR, readOnly: true },
        { host: spool, target: '/var/spool/mtopo' },
      ],
      logFile: join(dir.path, 'mta.log'),
    });
    try {
      await untilReady(proc, http!, '/readyz');
      assert.match(await greeting(smtp!), /^220 /);
    } finally {
      await stopCleanly(proc);
    }
  });

  test('the MMP listens for IMAP and POP3 and its admin socket lives in /tmp', async () => {
    const image = await built('mmp');
    const { host, tls } = await configFolder('mmp', {
      'bind-dn': 'cn=mmp,dc=siroe,dc=example\n',
      'bind-password': 'x\n',
    });
    const rendered = renderedMmpConfig();
    const local = await localize(rendered, {
      dir: join(dir.path, 'mmp-local'),
      directory: {
        ...rendered.directory,
        urls: ['ldap://127.0.0.1:9'],
        bindDNFile: `${CONFIG_DIR}/bind-dn`,
        passwordFile: `${CONFIG_DIR}/bind-password`,
      },
      stores: Object.fromEntries(
        Object.values(rendered.stores).map((s) => [s.host, { imapPort: 9, pop3Port: 9 }]),
      ),
      tls,
      proxySecret: 'secret',
    });
    writeFileSync(join(host, 'proxy-secret'), 'secret\n');
    chmodSync(join(host, 'proxy-secret'), 0o644);
    const config: MmpConfig = {
      ...local,
      proxyAuth: { ...local.proxyAuth, passwordFile: `${CONFIG_DIR}/proxy-secret` },
    };
    writeFileSync(join(host, 'config.json'), JSON.stringify(config));
    const proc = startInRootfs(image, {
      args: ['--config', `${CONFIG_DIR}/config.json`, '--listen-host', '127.0.0.1'],
      binds: [{ host, target: CONFIG_DIR, readOnly: true }],
      logFile: join(dir.path, 'mmp.log'),
    });
    try {
      await untilReady(proc, config.common.httpPort, '/healthz');
      for (const listener of config.listeners.filter((l) => l.tls !== 'implicit'))
        assert.match(await greeting(listener.port), listener.protocol === 'imap' ? /^\* OK/ : /^\+OK/);
      // The program's own view of its root: the socket is on the /tmp volume, not the image.
      assert.ok(existsSync(`/proc/${proc.pid}/root/tmp/mtopo-mmp.sock`), 'admin socket in /tmp');
    } finally {
      await stopCleanly(proc);
    }
  });

  test('the operator starts with in-cluster credentials and serves /healthz', async () => {
    const image = await built('operator');
    const [health] = await freePorts(1);
    const serviceAccount = join(dir.path, 'serviceaccount');
    mkdirSync(serviceAccount, { recursive: true });
    writeFileSync(join(serviceAccount, 'token'), 'not-a-real-token\n');
    writeFileSync(join(serviceAccount, 'namespace'), 'mtopo-system');
    const { host } = await configFolder('operator');
    copyFileSync(join(host, 'tls.crt'), join(serviceAccount, 'ca.crt'));
    const proc = startInRootfs(image, {
      args: [`--health-port=${health}`, '--health-address=127.0.0.1'],
      binds: [
        { host: serviceAccount, target: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      ],
      // An API server nobody answers on: the operator must still come up and say it is alive.
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '9' },
      logFile: join(dir.path, 'operator.log'),
    });
    try {
      await untilReady(proc, health!, '/healthz');
    } finally {
      // Not stopCleanly: with no API server to talk to, the operator's stop waits on its watches'
      // retries past any grace period (seen here; the operator's room, reported).
      await proc.stop(5_000);
    }
  });
});

describe('fixture images run from their own read-only rootfs', { skip: rootfsRunUnavailable() }, () => {
  test('the directory serves the test users to the service account, as uid 10001', async () => {
    const image = await built('fixture-directory');
    const [port] = await freePorts(1);
    const data = writableVolume('directory-data');
    const proc = startInRootfs(image, {
      args: ['--port', String(port)],
      binds: [{ host: data, target: '/var/lib/mtopo-directory' }],
      logFile: join(dir.path, 'directory.log'),
    });
    try {
      const search = (): Promise<RunResult> =>
        run('ldapsearch', [
          '-x',
          '-LLL',
          '-H',
          `ldap://127.0.0.1:${port}`,
          '-D',
          'cn=mtopo,ou=services,dc=example,dc=test',
          '-w',
          'service-secret',
          '-b',
          'ou=people,dc=example,dc=test',
          '(uid=alice)',
          'mail',
          'mailHost',
        ]);
      const found = await waitFor(
        'slapd to answer the search',
        async () => {
          const result = await search();
          return result.code === 0 ? result.stdout : false;
        },
        {
          timeoutMs: 60_000,
          abortIf: () => (proc.hasExited() ? `the fixture exited:\n${proc.logTail()}` : undefined),
        },
      );
      assert.match(found, /mail: alice@example\.test/);
      assert.match(found, /mailHost: store-a/);
      const owner = lstatSync(join(data, 'db', 'data.mdb'));
      assert.equal(owner.uid, RUN_AS, 'the database was written by the image user');
    } finally {
      await stopCleanly(proc);
    }
  });

  test('the legacy Postfix takes mail for its domain into a Maildir on its volume', async () => {
    const image = await built('fixture-legacy-mta');
    const [port] = await freePorts(1);
    const queue = join(dir.path, 'legacy-queue');
    const state = join(dir.path, 'legacy-state');
    for (const path of [queue, state]) mkdirSync(path, { recursive: true });
    const proc = startInRootfs(image, {
      args: [
        '--domains',
        'legacy.example.test',
        '--port',
        String(port),
        '--hostname',
        'notes1.legacy.example.test',
        // The test connects from loopback: keep it out of mynetworks to see relaying refused.
        '--mynetworks',
        '192.0.2.1/32',
      ],
      binds: [
        { host: queue, target: '/var/spool/postfix' },
        { host: state, target: '/var/lib/mtopo-legacy' },
      ],
      logFile: join(dir.path, 'legacy-mta.log'),
    });
    try {
      await waitFor('Postfix to greet', async () => /^220 /.test(await greeting(port!).catch(() => '')), {
        timeoutMs: 60_000,
        abortIf: () => (proc.hasExited() ? `the fixture exited:\n${proc.logTail()}` : undefined),
      });
      const sent = await run('swaks', [
        '--server',
        `127.0.0.1:${port}`,
        '--from',
        'alice@example.test',
        '--to',
        'dave@legacy.example.test',
        '--header',
        'Subject: to the legacy system',
        '--body',
        'hello legacy',
      ]);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      const mailbox = join(state, 'mail', 'inbox', 'new');
      const delivered = await waitFor(
        'the message in the Maildir',
        () => existsSync(mailbox) && readdirSync(mailbox)[0],
        {
          timeoutMs: 60_000,
          abortIf: () => (proc.hasExited() ? `the fixture exited:\n${proc.logTail()}` : undefined),
        },
      );
      const message = readFileSync(join(mailbox, delivered), 'utf8');
      assert.match(message, /^Delivered-To: dave@legacy\.example\.test$/m);
      assert.match(message, /Subject: to the legacy system/);
      const relay = await run('swaks', [
        '--server',
        `127.0.0.1:${port}`,
        '--from',
        'a@example.test',
        '--to',
        'x@elsewhere.example',
        '--quit-after',
        'RCPT',
      ]);
      assert.match(relay.stdout, /<\*\* 554 5\.7\.1/, 'no open relay');
    } finally {
      await stopCleanly(proc);
    }
  });

  test('the internet client holds curl with SMTP, IMAP and POP3, and its entrypoint waits until SIGTERM', async () => {
    const image = await built('fixture-internet-client');
    const curl = startInRootfs(image, {
      command: ['/usr/bin/curl'],
      args: ['--version'],
      logFile: join(dir.path, 'curl.log'),
    });
    assert.equal(await curl.exitStatus, 0, curl.logTail());
    const protocols = /Protocols: (.*)/.exec(readFileSync(join(dir.path, 'curl.log'), 'utf8'))?.[1] ?? '';
    for (const protocol of ['smtp', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s'])
      assert.ok(protocols.split(' ').includes(protocol), `curl speaks ${protocol}: ${protocols}`);
    const idle = startInRootfs(image, { args: [], logFile: join(dir.path, 'internet-client.log') });
    await waitFor(
      'the client to say it is ready',
      () => readFileSync(join(dir.path, 'internet-client.log'), 'utf8').includes('ready'),
      30_000,
    );
    assert.equal(idle.hasExited(), false);
    await stopCleanly(idle);
  });
});

describe('the Dockerfiles build the same layout', { skip: rootfsRunUnavailable() }, () => {
  for (const recipe of RECIPES.filter((r) => r.dockerfile.startsWith('images/'))) {
    test(`${recipe.dockerfile}: its build stage's RUN stages the tree the image holds`, async () => {
      const stages = parseStages(readFileSync(join(ROOT, recipe.dockerfile), 'utf8'));
      const run = stages
        .flatMap((stage) => stage.instructions)
        .filter((i) => i.keyword === 'RUN')
        .map((i) => words(i.args))
        .find((command) => command[1] === 'images/build/stage-rootfs.ts');
      assert.ok(run, 'a RUN of stage-rootfs.ts');
      const staged = join(dir.path, `${recipe.id}-staged`);
      const [node, ...args] = run.map((word) => (word === '/rootfs' ? staged : word));
      assert.equal(node, 'node');
      execFileSync(process.execPath, args, { cwd: ROOT });
      const image = await built(recipe.id);
      assert.deepEqual([...layout(staged)], [...layout(image.rootfs)]);
    });
  }
});

describe('image builds are deterministic', () => {
  test('building the MTA image again from the same tree gives the same archive', async () => {
    const { archive: first } = await build('mta');
    const second = await writeImageArchive(imageSpec(ROOT, 'mta'), join(dir.path, 'mta-again.tar'));
    assert.equal(second.archiveDigest, first.archiveDigest);
    assert.equal(second.imageId, first.imageId);
  });
});

function listTree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' });
}

function lmtpSend(port: number, recipient: string): Promise<string> {
  const lines = [
    'LHLO test.example',
    'MAIL FROM:<bob@elsewhere.example>',
    `RCPT TO:<${recipient}>`,
    'DATA',
    'Subject: from the image test\r\n\r\nhello\r\n.',
    'QUIT',
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let transcript = '';
    let sent = 0;
    socket.setTimeout(20_000, () => socket.destroy(new Error(`LMTP stalled:\n${transcript}`)));
    socket.on('data', (chunk) => {
      transcript += chunk.toString();
      // One reply (possibly multi-line) per command: send the next one when the last reply line is complete.
      const replies = transcript.split('\r\n').filter((line) => /^\d{3} /.test(line)).length;
      if (replies > sent && sent < lines.length) socket.write(`${lines[sent++]}\r\n`);
    });
    socket.on('close', () => resolve(transcript));
    socket.on('error', reject);
  });
}
