import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatPath, isOurKind, parseResource, type Problem, type Resource } from './parse.ts';

const API_VERSION = 'mtopo.dev/v1alpha1';

function topology(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: API_VERSION,
    kind: 'MessagingTopology',
    metadata: { name: 'siroe', namespace: 'mail' },
    spec: {
      domains: ['siroe.example'],
      directory: {
        urls: ['ldaps://ldap.siroe.example'],
        baseDN: 'o=siroe.example',
        bindSecretRef: { name: 'ldap-bind' },
        cidrs: ['10.20.0.0/24'],
      },
      tls: { secretRef: { name: 'mail-tls' } },
      ...spec,
    },
  };
}

function relay(spec: Record<string, unknown>, name = 'edge') {
  return {
    apiVersion: API_VERSION,
    kind: 'MTARelay',
    metadata: { name },
    spec: { topologyRef: { name: 'siroe' }, ...spec },
  };
}

function pool(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: API_VERSION,
    kind: 'MMPPool',
    metadata: { name: 'access' },
    spec: { topologyRef: { name: 'siroe' }, ...spec },
  };
}

function problemsOf(doc: unknown, index = 0): Problem[] {
  const result = parseResource(doc, index);
  assert.equal(result.ok, false, 'expected the document to be refused');
  return result.ok ? [] : result.problems;
}

function parsed<K extends Resource['kind']>(kind: K, doc: unknown): Extract<Resource, { kind: K }> {
  const result = parseResource(doc, 0);
  if (!result.ok) assert.fail(JSON.stringify(result.problems));
  assert.equal(result.resource.kind, kind);
  return result.resource as Extract<Resource, { kind: K }>;
}

describe('parseResource on valid resources', () => {
  test('reads a store quota as given', () => {
    const { spec } = parsed(
      'MessagingTopology',
      topology({ stores: { quota: { storage: '2Gi', messages: 5000 } } }),
    );
    assert.deepEqual(spec.stores.quota, { storage: '2Gi', messages: 5000 });
  });

  test('fills in the defaults of a minimal MessagingTopology', () => {
    const { spec } = parsed('MessagingTopology', topology());
    assert.deepEqual(spec.stores, { replicas: 1, storage: { size: '10Gi' } });
    assert.deepEqual(spec.directory.attributes, {
      mail: 'mail',
      aliases: 'mailAlternateAddress',
      forwardTo: 'mailForwardingAddress',
      mailHost: 'mailHost',
      uid: 'uid',
    });
    assert.equal(spec.directory.cacheTTL, '60s');
    assert.deepEqual(spec.network.internetCIDRs, ['0.0.0.0/0', '::/0']);
    assert.deepEqual(spec.network.clientZones, []);
    assert.deepEqual(spec.network.dns, { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } });
    assert.equal(spec.images.pullPolicy, 'IfNotPresent');
  });

  test('gives a client zone every protocol unless it says otherwise', () => {
    const { spec } = parsed(
      'MessagingTopology',
      topology({ network: { clientZones: [{ name: 'office', cidrs: ['10.40.0.0/16'] }] } }),
    );
    assert.deepEqual(spec.network.clientZones[0]!.allow, [
      'imap',
      'imaps',
      'pop3',
      'pop3s',
      'submission',
      'submissions',
    ]);
  });

  test('fills in the defaults of a minimal MTARelay', () => {
    const { spec } = parsed('MTARelay', relay({ role: 'internet' }));
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.queue, {
      storage: { size: '5Gi' },
      lifetime: '5d',
      retryInitial: '1m',
      retryMax: '1h',
    });
    assert.equal(spec.limits.maxMessageSize, '25Mi');
    assert.equal(spec.limits.maxRecipients, 100);
    assert.deepEqual(spec.service, { proxyProtocol: 'none' });
    assert.equal(spec.routes, undefined);
  });

  test('fills in the defaults of a minimal MMPPool and of a gateway route', () => {
    assert.deepEqual(parsed('MMPPool', pool()).spec.protocols, ['imap', 'imaps', 'pop3', 'pop3s']);
    const gateway = parsed(
      'MTARelay',
      relay({
        role: 'gateway',
        routes: [{ domains: ['legacy.siroe.example'], to: { host: 'notes.corp.example' } }],
      }),
    );
    assert.deepEqual(gateway.spec.routes?.[0]?.to, {
      host: 'notes.corp.example',
      port: 25,
      tls: 'opportunistic',
    });
  });

  test('recognises only mtopo kinds', () => {
    assert.equal(isOurKind(relay({ role: 'internet' })), true);
    assert.equal(isOurKind({ apiVersion: 'v1', kind: 'ConfigMap' }), false);
    assert.equal(isOurKind({ apiVersion: 'mtopo.dev/v1beta1', kind: 'MTARelay' }), false);
    assert.equal(isOurKind(null), false);
  });
});

describe('parseResource on invalid resources', () => {
  test('refuses a store quota of no bytes, of no messages, or of a size that is no quantity', () => {
    const fields = (quota: unknown) =>
      problemsOf(topology({ stores: { quota } })).map((p) => `${p.field}: ${p.message}`);
    assert.deepEqual(fields({ storage: '0' }), [
      'spec.stores.quota.storage: must be at least 1 byte, such as "2Gi"',
    ]);
    assert.match(fields({ messages: 0 }).join(), /^spec\.stores\.quota\.messages: /);
    assert.match(fields({ storage: '2 GB' }).join(), /^spec\.stores\.quota\.storage: must be a size/);
  });

  test('accepts an LDAP URL with an IPv6 host and refuses one with a port past 65535', () => {
    const urls = (u: string) => topology({ directory: { ...topology().spec.directory, urls: [u] } });
    parsed('MessagingTopology', urls('ldap://[2001:db8::10]:389'));
    assert.deepEqual(
      problemsOf(urls('ldap://ldap.siroe.example:70000')).map((p) => p.field),
      ['spec.directory.urls[0]'],
    );
  });

  // One rule in the shared service schema, so a pool and a relay refuse and accept alike.
  for (const [kind, make] of [
    ['MMPPool', (service: Record<string, unknown>) => pool({ service })],
    ['MTARelay', (service: Record<string, unknown>) => relay({ role: 'internet', service })],
  ] as const) {
    test(`refuses proxyProtocolFrom on an ${kind} whose load balancer sends no PROXY header`, () => {
      assert.deepEqual(
        problemsOf(make({ proxyProtocolFrom: ['192.0.2.10/32'] })).map((p) => `${p.field}: ${p.message}`),
        ['spec.service.proxyProtocolFrom: proxyProtocolFrom needs service.proxyProtocol "v1" or "v2"'],
      );
      assert.deepEqual(
        problemsOf(make({ proxyProtocol: 'v2', proxyProtocolFrom: [] })).map((p) => p.field),
        ['spec.service.proxyProtocolFrom'],
        'an empty list would refuse the load balancer too',
      );
      assert.deepEqual(
        problemsOf(make({ proxyProtocol: 'v2', proxyProtocolFrom: ['192.0.2.10'] })).map((p) => p.field),
        ['spec.service.proxyProtocolFrom[0]'],
        'a range, as every CIDR field takes',
      );
      const { spec } = parsed(kind, make({ proxyProtocol: 'v2', proxyProtocolFrom: ['192.0.2.10/32'] }));
      assert.deepEqual(spec.service.proxyProtocolFrom, ['192.0.2.10/32']);
    });
  }

  test('names spec.role and lists the roles when the role is unknown', () => {
    assert.deepEqual(problemsOf(relay({ role: 'foo' })), [
      {
        object: 'MTARelay/edge',
        field: 'spec.role',
        message: 'must be one of "internet", "inbound", "outbound", "gateway"',
      },
    ]);
  });

  test('names spec.routes with the rule message when a gateway has no routes', () => {
    assert.deepEqual(problemsOf(relay({ role: 'gateway' })), [
      {
        object: 'MTARelay/edge',
        field: 'spec.routes',
        message: 'a gateway needs at least one route: which legacy host receives which domains',
      },
    ]);
  });

  test('reports an unknown field by its name', () => {
    const problems = problemsOf(relay({ role: 'internet', replica: 3 }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.field, 'spec.replica');
    assert.equal(problems[0]!.message, 'is not a field of this kind; check its spelling in docs/api.md');
  });

  test('reports a missing required field as required', () => {
    assert.deepEqual(problemsOf({ ...relay({ role: 'internet' }), spec: { role: 'internet' } }), [
      { object: 'MTARelay/edge', field: 'spec.topologyRef', message: 'is required' },
    ]);
  });

  test('explains a malformed duration, size and name in words', () => {
    const problems = problemsOf(
      relay({ role: 'internet', queue: { lifetime: '5 days' }, limits: { maxMessageSize: 'big' } }),
    );
    assert.deepEqual(
      problems.map((p) => [p.field, p.message]),
      [
        ['spec.queue.lifetime', 'must be a duration such as "30s", "10m", "1h30m" or "5d"'],
        ['spec.limits.maxMessageSize', 'must be a size such as "25Mi", "10Gi" or "1000000"'],
      ],
    );
    const [name] = problemsOf(relay({ role: 'internet', topologyRef: { name: 'Siroe_1' } }));
    assert.equal(name!.field, 'spec.topologyRef.name');
    assert.match(name!.message, /RFC 1123/);
  });

  test('refuses a name longer than 40 characters', () => {
    const [problem] = problemsOf(relay({ role: 'internet' }, 'a'.repeat(41)));
    assert.equal(problem!.field, 'metadata.name');
    assert.match(problem!.message, /at most 40 characters/);
  });

  test('refuses public service types on internal tiers', () => {
    assert.deepEqual(
      problemsOf(relay({ role: 'inbound', service: { type: 'LoadBalancer' } })).map((p) => [
        p.field,
        p.message,
      ]),
      [['spec.service.type', 'inbound and gateway tiers are internal: service.type must be ClusterIP']],
    );
  });

  test('refuses PROXY headers on internal tiers, which no load balancer reaches', () => {
    for (const role of ['inbound', 'gateway']) {
      const routes =
        role === 'gateway' ? { routes: [{ domains: ['x.example'], to: { host: 'h.example' } }] } : {};
      assert.deepEqual(
        problemsOf(relay({ role, ...routes, service: { proxyProtocol: 'v2' } })).map((p) => p.field),
        ['spec.service.proxyProtocol'],
        role,
      );
    }
    parsed('MTARelay', relay({ role: 'outbound', service: { proxyProtocol: 'v1' } }));
  });

  test('names the list of a duplicated client zone or legacy system', () => {
    const zones = problemsOf(
      topology({
        network: {
          clientZones: [
            { name: 'office', cidrs: ['10.0.0.0/8'] },
            { name: 'office', cidrs: ['10.1.0.0/16'] },
          ],
          legacySystems: [
            { name: 'notes', cidrs: ['10.30.5.10/32'] },
            { name: 'notes', cidrs: ['10.30.5.11/32'] },
          ],
        },
      }),
    );
    assert.deepEqual(
      zones.map((p) => [p.field, p.message]),
      [
        ['spec.network.clientZones', 'client zone names must be unique'],
        ['spec.network.legacySystems', 'legacy system names must be unique'],
      ],
    );
  });

  test('names the item of a client zone that says nobody is in it, and a bad CIDR', () => {
    const problems = problemsOf(
      topology({ network: { clientZones: [{ name: 'ok', cidrs: ['10.0.0.0/33'] }, { name: 'empty' }] } }),
    );
    assert.deepEqual(
      problems.map((p) => p.field),
      ['spec.network.clientZones[0].cidrs[0]', 'spec.network.clientZones[1]'],
    );
    assert.match(problems[0]!.message, /must be a CIDR/);
    assert.match(problems[1]!.message, /needs "cidrs", "namespaceSelector" or both/);
  });

  test('refuses tls with both or neither of secretRef and issuerRef', () => {
    for (const tls of [{}, { secretRef: { name: 'a' }, issuerRef: { name: 'ca' } }]) {
      assert.deepEqual(
        problemsOf(topology({ tls })).map((p) => p.field),
        ['spec.tls'],
      );
    }
  });

  test('refuses popBeforeSmtp without the SMTP proxy', () => {
    assert.deepEqual(problemsOf(pool({ smtpProxy: { popBeforeSmtp: {} } })), [
      {
        object: 'MMPPool/access',
        field: 'spec.smtpProxy.popBeforeSmtp',
        message: 'popBeforeSmtp needs smtpProxy.enabled: true',
      },
    ]);
  });

  test('names a foreign document by its position', () => {
    assert.deepEqual(problemsOf({ apiVersion: 'v1', kind: 'ConfigMap' }, 2), [
      {
        object: 'document 3',
        field: 'kind',
        message:
          'is not an mtopo kind: expected apiVersion mtopo.dev/v1alpha1 and kind MessagingTopology, MTARelay or MMPPool',
      },
    ]);
  });
});

describe('formatPath', () => {
  test('writes paths as kubectl prints them', () => {
    assert.equal(formatPath(['spec', 'routes', 0, 'to', 'host']), 'spec.routes[0].to.host');
    assert.equal(formatPath([]), '(root)');
  });
});
