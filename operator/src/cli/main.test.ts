import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { load, loadAll } from 'js-yaml';
import { REPO_ROOT } from '../render/test-support.ts';
import { run } from './main.ts';

async function cli(args: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const written = new Map<string, string>();
  const code = await run(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => stdin,
    writeFile: (path, text) => written.set(path, text),
  });
  return { code, stdout, stderr, written };
}

const example = (name: string) => `${REPO_ROOT}examples/${name}.yaml`;

describe('mtopo render', () => {
  it('prints every child object of the example as multi-document YAML', async () => {
    const { code, stdout, stderr } = await cli(['render', '-f', example('siroe')]);
    assert.equal(code, 0, stderr);
    const docs = loadAll(stdout) as { kind: string; metadata: { name: string } }[];
    assert.equal(docs.length, 42);
    assert.ok(docs.some((d) => d.kind === 'StatefulSet' && d.metadata.name === 'siroe-store'));
  });

  it('prints a JSON List with -o json', async () => {
    const { code, stdout } = await cli(['render', '-f', example('minimal'), '-o', 'json']);
    assert.equal(code, 0);
    const list = JSON.parse(stdout) as { kind: string; items: unknown[] };
    assert.equal(list.kind, 'List');
    assert.ok(list.items.length > 20);
  });

  it('reads standard input with -f -', async () => {
    const { code, stdout } = await cli(['render', '-f', '-'], readFileSync(example('minimal'), 'utf8'));
    assert.equal(code, 0);
    assert.match(stdout, /name: small-store/);
  });

  it('renders the images an operator started with --default-image-* would, unless spec.images names one', async () => {
    const images = (stdout: string) =>
      (
        loadAll(stdout) as {
          kind: string;
          spec?: { template?: { spec?: { containers?: { image: string }[] } } };
        }[]
      )
        .filter((d) => d.kind === 'StatefulSet' || d.kind === 'Deployment')
        .flatMap((d) => d.spec?.template?.spec?.containers?.map((c) => c.image) ?? []);
    const released = await cli(['render', '-f', example('minimal')]);
    assert.deepEqual([...new Set(images(released.stdout))].sort(), [
      'docker.io/mtopo/mmp:0.1.0',
      'docker.io/mtopo/mta:0.1.0',
      'docker.io/mtopo/store:0.1.0',
    ]);
    const mirrored = await cli([
      'render',
      '-f',
      example('minimal'),
      '--default-image-mta',
      'registry.corp.example/mail/mta:0.2.0',
      '--default-image-store=registry.corp.example/mail/store:0.2.0',
    ]);
    assert.equal(mirrored.code, 0, mirrored.stderr);
    assert.deepEqual([...new Set(images(mirrored.stdout))].sort(), [
      'docker.io/mtopo/mmp:0.1.0',
      'registry.corp.example/mail/mta:0.2.0',
      'registry.corp.example/mail/store:0.2.0',
    ]);
    const pinned = readFileSync(example('minimal'), 'utf8').replace(
      /^spec:\n/m,
      'spec:\n  images:\n    store: docker.io/mtopo/store:pinned\n',
    );
    const overridden = await cli(
      ['render', '-f', '-', '--default-image-store=registry.corp.example/s:1'],
      pinned,
    );
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.ok(images(overridden.stdout).includes('docker.io/mtopo/store:pinned'));
    assert.ok(!images(overridden.stdout).includes('registry.corp.example/s:1'));
  });

  it('refuses a --default-image-* that is no image reference, naming the flag', async () => {
    const { code, stderr } = await cli([
      'render',
      '-f',
      example('minimal'),
      '--default-image-mmp',
      'not an image',
    ]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /--default-image-mmp: "not an image" must be an image reference without spaces \(such as "docker\.io\/mtopo\/mmp:0\.1\.0"\)/,
    );
  });

  it('refuses an unknown output format', async () => {
    const { code, stderr } = await cli(['render', '-f', example('minimal'), '-o', 'xml']);
    assert.equal(code, 2);
    assert.match(stderr, /-o must be yaml or json/);
  });
});

describe('mtopo validate', () => {
  it('accepts the examples', async () => {
    const { code, stdout } = await cli(['validate', '-f', example('siroe'), '-f', example('minimal')]);
    assert.equal(code, 0);
    assert.equal(stdout, '2 topologies valid\n');
  });

  it('exits 1 and names file, object and field of each problem', async () => {
    const bad = `apiVersion: mtopo.dev/v1alpha1
kind: MTARelay
metadata: {name: gw}
spec:
  topologyRef: {name: nowhere}
  role: gateway
  replica: 3
  service: {type: LoadBalancer}
---
apiVersion: mtopo.dev/v1alpha1
kind: MMPPool
metadata: {name: access}
spec:
  topologyRef: {name: nowhere}
  protocols: [imap, smtp]
`;
    const { code, stderr } = await cli(['validate', '-f', '-'], bad);
    assert.equal(code, 1);
    const lines = stderr.trim().split('\n');
    assert.ok(
      lines.includes(
        '-: MTARelay/gw: spec.replica: is not a field of this kind; check its spelling in docs/api.md',
      ),
      stderr,
    );
    assert.ok(
      lines.includes(
        '-: MTARelay/gw: spec.service.type: inbound and gateway tiers are internal: service.type must be ClusterIP',
      ),
      stderr,
    );
    assert.ok(
      lines.includes(
        '-: MTARelay/gw: spec.routes: a gateway needs at least one route: which legacy host receives which domains',
      ),
      stderr,
    );
    assert.ok(
      lines.includes('-: MMPPool/access: spec.protocols[1]: must be one of "imap", "imaps", "pop3", "pop3s"'),
      stderr,
    );
  });

  it('reports a relay whose topology is not in the input', async () => {
    const text = readFileSync(example('minimal'), 'utf8').replace(
      'topologyRef: { name: small }',
      'topologyRef: { name: big }',
    );
    const { code, stderr } = await cli(['validate', '-f', '-'], text);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /MTARelay\/edge: spec\.topologyRef\.name: names MessagingTopology "big", which is not in the input/,
    );
  });

  it('reports YAML syntax errors with the file name', async () => {
    const { code, stderr } = await cli(['validate', '-f', '-'], 'kind: [unclosed');
    assert.equal(code, 1);
    assert.match(stderr, /^-: \(file\): \(yaml\): /);
  });
});

describe('mtopo diagram', () => {
  it('draws Mermaid by default and SVG on request', async () => {
    const mermaid = await cli(['diagram', '-f', example('siroe')]);
    assert.equal(mermaid.code, 0, mermaid.stderr);
    assert.match(mermaid.stdout, /^flowchart LR/m);
    const svg = await cli(['diagram', '-f', example('siroe'), '--format', 'svg', '--out', 'site.svg']);
    assert.equal(svg.code, 0, svg.stderr);
    assert.match(svg.written.get('site.svg') ?? '', /<svg[\s\S]*edge-mta[\s\S]*<\/svg>/);
  });
});

describe('the mtopo command as a newcomer runs it', () => {
  it('runs through npx from the repository root', async () => {
    const { stdout } = await promisify(execFile)('npx', ['mtopo', 'render', '-f', 'examples/minimal.yaml'], {
      cwd: REPO_ROOT,
    });
    const first = load(stdout.split('\n---\n')[0]!.replace(/^---\n/, '')) as { kind: string };
    assert.equal(first.kind, 'NetworkPolicy');
  });
});

describe('mtopo plan', () => {
  it('summarises tiers, flows and DNS records for review', async () => {
    const { code, stdout } = await cli(['plan', '-f', example('siroe')]);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^Topology mail\/siroe: siroe\.example, west\.siroe\.example, legacy\.siroe\.example$/m,
    );
    assert.match(
      stdout,
      /^edge-mta\s+internet-facing MTA\s+dmz\s+2\s+LoadBalancer \(PROXY v2\)\s+25\/smtp$/m,
    );
    assert.match(stdout, /^ {2}internet -> edge-mta {2}25\/smtp {2}\(mail from the internet\)$/m);
    assert.match(stdout, /^ {2}siroe\.example MX 10 mx\.siroe\.example$/m);
    assert.match(stdout, /^Objects \(42\): /m);
  });
});
