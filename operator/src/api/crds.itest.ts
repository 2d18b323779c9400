// The generated CRDs on a real API server: they install, `kubectl explain` reads their docs, the
// server refuses what the schemas and CEL rules refuse (and `mtopo validate` refuses the same
// things), server defaults equal zod's, and everything `mtopo render` prints is accepted.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import {
  applyManifests,
  createTestNamespace,
  expectApiError,
  kubectl,
  testKubeConfig,
  installCrdsFrom,
} from '../../../testing/control-plane/index.ts';
import { renderSite } from '../render/render.ts';
import { EXAMPLES, loadManifest, REPO_ROOT } from '../render/test-support.ts';
import { parseResource } from './parse.ts';

const admin = testKubeConfig();
type Doc = KubernetesObject & { spec: Record<string, unknown> };

const exampleDocs = (name: string, namespace: string): Doc[] =>
  (loadAll(readFileSync(`${REPO_ROOT}examples/${name}.yaml`, 'utf8')) as Doc[]).map((d) => ({
    ...d,
    metadata: { ...d.metadata, namespace },
  }));

const topology = (namespace: string, spec: Record<string, unknown>, name = 'site'): Doc => ({
  apiVersion: 'mtopo.dev/v1alpha1',
  kind: 'MessagingTopology',
  metadata: { name, namespace },
  spec: {
    domains: ['a.example'],
    directory: {
      urls: ['ldap://ldap.a.example'],
      baseDN: 'o=a',
      bindSecretRef: { name: 'b' },
      cidrs: ['10.0.0.0/24'],
    },
    tls: { secretRef: { name: 't' } },
    ...spec,
  },
});
const relay = (namespace: string, spec: Record<string, unknown>): Doc => ({
  apiVersion: 'mtopo.dev/v1alpha1',
  kind: 'MTARelay',
  metadata: { name: 'r', namespace },
  spec: { topologyRef: { name: 'site' }, ...spec },
});
const pool = (namespace: string, spec: Record<string, unknown>): Doc => ({
  apiVersion: 'mtopo.dev/v1alpha1',
  kind: 'MMPPool',
  metadata: { name: 'p', namespace },
  spec: { topologyRef: { name: 'site' }, ...spec },
});

/** Each invalid resource, the field both sides must name, and words the server's message must hold. */
const INVALID: { title: string; make: (ns: string) => Doc; field: string; says: string }[] = [
  {
    title: 'an unknown role',
    make: (ns) => relay(ns, { role: 'relay' }),
    field: 'spec.role',
    says: 'Unsupported value: "relay"',
  },
  {
    title: 'an inbound tier behind a load balancer',
    make: (ns) => relay(ns, { role: 'inbound', service: { type: 'LoadBalancer' } }),
    field: 'spec.service.type',
    says: 'inbound and gateway tiers are internal',
  },
  {
    title: 'PROXY headers on a gateway tier',
    make: (ns) =>
      relay(ns, {
        role: 'gateway',
        routes: [{ domains: ['x.example'], to: { host: 'h.example' } }],
        service: { proxyProtocol: 'v2' },
      }),
    field: 'spec.service.proxyProtocol',
    says: 'inbound and gateway tiers are reached inside the cluster only',
  },
  {
    title: 'routes on the internet role',
    make: (ns) =>
      relay(ns, { role: 'internet', routes: [{ domains: ['x.example'], to: { host: 'h.example' } }] }),
    field: 'spec.routes',
    says: 'routes are for the gateway and outbound roles',
  },
  {
    title: 'a gateway without routes',
    make: (ns) => relay(ns, { role: 'gateway' }),
    field: 'spec.routes',
    says: 'a gateway needs at least one route',
  },
  {
    title: 'a smarthost on the inbound role',
    make: (ns) => relay(ns, { role: 'inbound', smarthost: { host: 'relay.example' } }),
    field: 'spec.smarthost',
    says: 'smarthost is for the outbound role only',
  },
  {
    title: 'POP-before-SMTP without the SMTP proxy',
    make: (ns) => pool(ns, { smtpProxy: { popBeforeSmtp: { window: '5m' } } }),
    field: 'spec.smtpProxy.popBeforeSmtp',
    says: 'popBeforeSmtp needs smtpProxy.enabled: true',
  },
  {
    title: 'an unknown MMP protocol',
    make: (ns) => pool(ns, { protocols: ['imap', 'nntp'] }),
    field: 'spec.protocols[1]',
    says: 'Unsupported value: "nntp"',
  },
  {
    title: 'TLS from both a Secret and an issuer',
    make: (ns) => topology(ns, { tls: { secretRef: { name: 't' }, issuerRef: { name: 'ca' } } }),
    field: 'spec.tls',
    says: 'tls needs exactly one of "secretRef"',
  },
  {
    title: 'a client zone with nobody in it',
    make: (ns) => topology(ns, { network: { clientZones: [{ name: 'empty' }] } }),
    field: 'spec.network.clientZones[0]',
    says: 'a client zone needs "cidrs", "namespaceSelector" or both',
  },
  {
    title: 'a CIDR that is not one',
    make: (ns) => topology(ns, { network: { internetCIDRs: ['10.0.0.0/33'] } }),
    field: 'spec.network.internetCIDRs[0]',
    says: 'must be a CIDR',
  },
  {
    title: 'a store quota of no bytes',
    make: (ns) => topology(ns, { stores: { quota: { storage: '0' } } }),
    field: 'spec.stores.quota.storage',
    says: 'must be at least 1 byte',
  },
  {
    title: 'an LDAP URL whose host is no host name',
    make: (ns) =>
      topology(ns, {
        directory: { urls: ['ldap://-ldap.example'], baseDN: 'o=a', bindSecretRef: { name: 'b' }, cidrs: [] },
      }),
    field: 'spec.directory.urls[0]',
    says: 'should match',
  },
  {
    title: 'PROXY senders on a pool that expects no PROXY header',
    make: (ns) => pool(ns, { service: { proxyProtocolFrom: ['192.0.2.10/32'] } }),
    field: 'spec.service.proxyProtocolFrom',
    says: 'proxyProtocolFrom needs service.proxyProtocol',
  },
  {
    title: 'PROXY senders on a relay that expects no PROXY header',
    make: (ns) => relay(ns, { role: 'internet', service: { proxyProtocolFrom: ['192.0.2.10/32'] } }),
    field: 'spec.service.proxyProtocolFrom',
    says: 'proxyProtocolFrom needs service.proxyProtocol',
  },
  {
    title: 'a domain with a trailing dot',
    make: (ns) => topology(ns, { domains: ['a.example.'] }),
    field: 'spec.domains[0]',
    says: 'should match',
  },
  {
    title: 'a duration without a unit',
    make: (ns) => relay(ns, { role: 'outbound', queue: { lifetime: '5' } }),
    field: 'spec.queue.lifetime',
    says: 'should match',
  },
  {
    title: 'a name too long for the children',
    make: (ns) => topology(ns, {}, 'a'.repeat(41)),
    field: 'metadata.name',
    says: 'must be at most 40 characters',
  },
];

describe('the CRDs on a real API server', () => {
  before(async () => {
    await installCrdsFrom(admin, `${REPO_ROOT}crds`);
  });

  it('shows the field docs in kubectl explain', async () => {
    const directory = await kubectl(['explain', 'messagingtopology.spec.directory']);
    assert.match(
      directory.stdout,
      /The LDAP directory that says which addresses are hosted and where each\s+mailbox lives/,
    );
    assert.match(directory.stdout, /bindSecretRef\s+<Object> -required-/);
    const quota = await kubectl(['explain', 'messagingtopology.spec.stores.quota']);
    assert.match(quota.stdout, /Each user's mailbox quota \(RFC 9208: STORAGE and MESSAGE\)/);
    assert.match(quota.stdout, /storage\s+<string>/);
    const role = await kubectl(['explain', 'mta.spec.role']);
    assert.match(role.stdout, /ENUM:\s+internet\s+inbound\s+outbound\s+gateway/);
    // The PROXY senders are documented once, in the service schema every kind with a Service shares.
    for (const kind of ['mta', 'mmp']) {
      const from = await kubectl(['explain', `${kind}.spec.service.proxyProtocolFrom`]);
      assert.match(from.stdout, /The load balancers allowed to send a PROXY header/, kind);
      assert.match(from.stdout, /FIELD:\s+proxyProtocolFrom\s+<\[\]string>/, kind);
    }
    const resources = await kubectl(['api-resources', '--categories=messaging', '-o', 'name']);
    assert.deepEqual(resources.stdout.trim().split('\n').sort(), [
      'messagingtopologies.mtopo.dev',
      'mmppools.mtopo.dev',
      'mtarelays.mtopo.dev',
    ]);
  });

  for (const invalid of INVALID) {
    it(`refuses ${invalid.title}, as mtopo validate does`, async (t) => {
      const namespace = await createTestNamespace(t);
      const doc = invalid.make(namespace);
      const message = await expectApiError(applyManifests(admin, [doc]), 422);
      assert.ok(message.includes(invalid.says), `the server says: ${message}`);
      assert.ok(
        message.includes(invalid.field.replace(/^metadata\.name$/, 'metadata.name')),
        `the server names ${invalid.field}: ${message}`,
      );
      const offline = parseResource(doc, 0);
      assert.equal(offline.ok, false, 'mtopo validate refuses it too');
      if (!offline.ok)
        assert.ok(
          offline.problems.some((p) => p.field === invalid.field),
          JSON.stringify(offline.problems),
        );
    });
  }

  for (const example of EXAMPLES) {
    it(`fills in the same defaults as the zod schemas for examples/${example}.yaml`, async (t) => {
      const namespace = await createTestNamespace(t);
      const docs = exampleDocs(example, namespace);
      const stored = (await applyManifests(admin, docs, { dryRun: true })) as Doc[];
      docs.forEach((doc, i) => {
        const parsed = parseResource(doc, i);
        assert.ok(parsed.ok);
        assert.deepEqual(
          stored[i]!.spec,
          JSON.parse(JSON.stringify(parsed.resource.spec)),
          `${doc.kind}/${doc.metadata?.name}`,
        );
      });
    });

    it(`accepts everything mtopo render prints for examples/${example}.yaml (server-side dry run)`, async (t) => {
      const namespace = await createTestNamespace(t);
      const docs = exampleDocs(example, namespace);
      const { objects } = renderSite(loadManifest(docs.map((d) => `---\n${JSON.stringify(d)}`).join('\n')));
      // cert-manager is not installed in the test control plane, so its Certificate cannot be checked here.
      const checkable = objects.filter((o) => o.kind !== 'Certificate');
      const stored = await applyManifests(admin, checkable, { dryRun: true, fieldManager: 'mtopo-operator' });
      assert.equal(stored.length, checkable.length);
      assert.ok(objects.length - checkable.length <= 1);
    });
  }
});
