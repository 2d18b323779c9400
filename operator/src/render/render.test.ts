import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { KubernetesObject, V1ConfigMap, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import { mmpConfig } from '../../../images/lib/contract/mmp.ts';
import {
  gatewayMtaConfig,
  inboundMtaConfig,
  internetMtaConfig,
  outboundMtaConfig,
} from '../../../images/lib/contract/mta.ts';
import { storeConfig } from '../../../images/lib/contract/store.ts';
import { toYaml } from '../cli/output.ts';
import { dnsRecords } from './dns-records.ts';
import { ANNOTATION_CONFIG_HASH } from './labels.ts';
import { renderSite, type RenderInput } from './render.ts';
import { EXAMPLES, loadExample, loadManifest, REPO_ROOT } from './test-support.ts';

const find = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found as T;
};

const podTemplates = (objects: KubernetesObject[]) =>
  objects
    .filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment')
    .map((o) => ({
      name: o.metadata?.name,
      template: (o as { spec: { template: V1PodTemplateSpec } }).spec.template,
    }));

describe('renderSite', () => {
  for (const example of EXAMPLES) {
    it(`renders examples/${example}.yaml as in its golden file`, () => {
      const yaml = toYaml(renderSite(loadExample(example)).objects);
      const golden = `${REPO_ROOT}operator/src/render/testdata/${example}.golden.yaml`;
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, yaml);
      assert.equal(
        yaml,
        readFileSync(golden, 'utf8'),
        `run UPDATE_GOLDEN=1 make test-unit to accept the new output`,
      );
    });
  }

  it("runs each program from the operator's default image unless spec.images names one", () => {
    const input = loadExample('minimal');
    const imageOf = (objects: KubernetesObject[], name: string) =>
      podTemplates(objects).find((p) => p.name === name)?.template.spec?.containers[0]?.image;
    const released = renderSite(input).objects;
    assert.equal(imageOf(released, 'edge-mta'), 'docker.io/mtopo/mta:0.1.0', 'no defaults: the release');
    const defaultImages = { mta: 'localhost/mtopo/mta:dev', store: 'localhost/mtopo/store:dev' };
    const local = renderSite({ ...input, defaultImages }).objects;
    assert.equal(imageOf(local, 'edge-mta'), 'localhost/mtopo/mta:dev');
    assert.equal(imageOf(local, 'small-store'), 'localhost/mtopo/store:dev');
    assert.equal(imageOf(local, 'access-mmp'), 'docker.io/mtopo/mmp:0.1.0', 'a program without a default');
    const named = {
      ...input,
      topology: {
        ...input.topology,
        spec: {
          ...input.topology.spec,
          images: { ...input.topology.spec.images, mta: 'corp.example/mta:1' },
        },
      },
    };
    const own = renderSite({ ...named, defaultImages }).objects;
    assert.equal(imageOf(own, 'edge-mta'), 'corp.example/mta:1', "the site's spec.images wins");
  });

  it('gives the same output whatever order the relays and pools arrive in', () => {
    const input = loadExample('siroe');
    const shuffled: RenderInput = {
      ...input,
      relays: [...input.relays].reverse(),
      pools: [...input.pools].reverse(),
    };
    assert.equal(toYaml(renderSite(shuffled).objects), toYaml(renderSite(input).objects));
  });

  it('renders the stores and every MTA as StatefulSets with volume claims, and the MMPs as a Deployment', () => {
    const { objects } = renderSite(loadExample('siroe'));
    const sets = objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata?.name);
    assert.deepEqual(sets, ['edge-mta', 'inbound-mta', 'legacy-gw-mta', 'outbound-mta', 'siroe-store']);
    const store = find<
      {
        spec: {
          replicas: number;
          volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[];
        };
      } & KubernetesObject
    >(objects, 'StatefulSet', 'siroe-store');
    assert.equal(store.spec.replicas, 3);
    assert.equal(store.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage, '200Gi');
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata?.name),
      ['access-mmp'],
    );
  });

  it('locks every pod down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
    for (const example of EXAMPLES) {
      const { objects } = renderSite(loadExample(example));
      for (const { name, template } of podTemplates(objects)) {
        const pod = template.spec!;
        assert.equal(pod.automountServiceAccountToken, false, `${name}: no token`);
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: non-root pod`);
        assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${name}: seccomp`);
        for (const c of pod.containers) {
          const sc = c.securityContext!;
          assert.equal(sc.readOnlyRootFilesystem, true, `${name}: read-only root`);
          assert.equal(sc.allowPrivilegeEscalation, false, `${name}: no escalation`);
          assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${name}: capabilities dropped`);
          assert.ok(
            c.readinessProbe?.httpGet?.path === '/readyz' && c.livenessProbe?.httpGet?.path === '/healthz',
          );
          assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${name}: resource requests`);
          assert.ok(
            c.ports!.every((p) => p.containerPort >= 1024),
            `${name}: unprivileged ports`,
          );
        }
      }
      for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
        assert.equal((sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken, false);
      }
    }
  });

  it('labels every object with the recommended labels and its topology', () => {
    const { objects } = renderSite(loadExample('siroe'));
    for (const o of objects) {
      assert.equal(
        o.metadata?.labels?.['app.kubernetes.io/managed-by'],
        'mtopo',
        `${o.kind}/${o.metadata?.name}`,
      );
      assert.equal(o.metadata?.labels?.['mtopo.dev/topology'], 'siroe', `${o.kind}/${o.metadata?.name}`);
      assert.equal(o.metadata?.namespace, 'mail');
    }
  });

  it('puts the internet-facing MTAs and the MMP pool behind load balancers and keeps the rest internal', () => {
    const { objects } = renderSite(loadExample('siroe'));
    const type = (name: string) => find<V1Service>(objects, 'Service', name).spec?.type;
    assert.equal(type('edge-mta'), 'LoadBalancer');
    assert.equal(type('access-mmp'), 'LoadBalancer');
    assert.equal(type('inbound-mta'), 'ClusterIP');
    assert.equal(type('legacy-gw-mta'), 'ClusterIP');
    const edge = find<V1Service>(objects, 'Service', 'edge-mta');
    assert.deepEqual(
      edge.spec?.ports?.map((p) => [p.port, p.targetPort]),
      [[25, 'smtp']],
    );
    assert.equal(edge.spec?.externalTrafficPolicy, 'Local', 'keeps the client address for policy and logs');
    const mmp = find<V1Service>(objects, 'Service', 'access-mmp');
    assert.deepEqual(mmp.spec?.loadBalancerSourceRanges, ['10.40.0.0/16', '10.50.0.0/16']);
    assert.ok(!mmp.spec?.ports?.some((p) => p.port === 25), 'the MMP never listens on 25');
    // kube-proxy keeps ClientIP affinity per Service port, so it cannot bring a client's POP3 and
    // SMTP connections to one replica (docs/mmp.md, POP-before-SMTP): no Service sets it.
    for (const service of objects.filter((o) => o.kind === 'Service') as V1Service[])
      assert.equal(service.spec?.sessionAffinity, undefined, `${service.metadata?.name}: no affinity`);
  });

  it('writes each program a config its own schema accepts, with the directory only where needed', () => {
    const { objects } = renderSite(loadExample('siroe'));
    const config = (name: string) =>
      JSON.parse(find<V1ConfigMap>(objects, 'ConfigMap', `${name}-config`).data!['config.json']!) as unknown;
    const edge = internetMtaConfig.parse(config('edge-mta'));
    assert.ok(!('directory' in edge), 'the DMZ knows no directory');
    assert.deepEqual(edge.relayTo, {
      host: 'inbound-mta.mail.svc.cluster.local',
      port: 25,
      tls: 'opportunistic',
    });
    assert.equal(edge.listeners[0]?.proxyProtocol, 'v2');
    const inbound = inboundMtaConfig.parse(config('inbound-mta'));
    assert.ok(inbound.directory);
    assert.equal(Object.keys(inbound.stores).length, 6, 'three stores, each by pod name and by DNS name');
    assert.deepEqual(inbound.stores['siroe-store-2'], {
      host: 'siroe-store-2.siroe-store.mail.svc.cluster.local',
      lmtpPort: 2424,
      imapPort: 1143,
      pop3Port: 1110,
    });
    assert.deepEqual(inbound.gateway?.domains, ['legacy.siroe.example']);
    assert.deepEqual(
      inbound.acceptFrom,
      ['10.244.0.0/16', '10.96.0.0/12', '10.30.5.10/32'],
      'the inbound tier serves the cluster and the legacy systems, nobody else',
    );
    assert.ok(!('acceptFrom' in edge), 'the internet-facing tier serves everyone');
    const outbound = outboundMtaConfig.parse(config('outbound-mta'));
    assert.equal(outbound.limits.maxMessageBytes, 50 * 1024 * 1024);
    assert.deepEqual(
      outbound.xclient?.peerCidrs,
      ['10.244.0.0/16', '10.96.0.0/12'],
      'XCLIENT only from pods',
    );
    assert.deepEqual(
      outbound.listeners.map((l) => [l.protocol, l.tls]),
      [
        ['submission', 'starttls'],
        ['submissions', 'implicit'],
        ['smtp', 'starttls'],
      ],
      'submission for clients, and the relay listener for the inbound tier',
    );
    assert.deepEqual(outbound.relayFrom, ['10.244.0.0/16', '10.96.0.0/12'], 'relay only for pods');
    assert.deepEqual(inbound.outboundRelay, {
      host: 'outbound-mta-headless.mail.svc.cluster.local',
      port: 2525,
      tls: 'opportunistic',
    });
    const gateway = gatewayMtaConfig.parse(config('legacy-gw-mta'));
    assert.deepEqual(
      gateway.legacyUsers,
      { host: 'notes.corp.example', port: 25, tls: 'opportunistic' },
      'hosted-domain users still on the legacy system go to the first route',
    );
    const mmp = mmpConfig.parse(config('access-mmp'));
    assert.equal(mmp.smtpProxy?.popBeforeSmtpSeconds, 600);
    assert.equal(mmp.smtpProxy?.outbound.host, 'outbound-mta.mail.svc.cluster.local');
    assert.equal(
      mmp.smtpProxy?.outbound.caFile,
      '/etc/mtopo/tls/ca.crt',
      "the outbound MTA's certificate is checked against the site's CA, from the site's TLS Secret",
    );
    const store = storeConfig.parse(config('siroe-store'));
    assert.deepEqual(
      store.quota,
      { storageBytes: 2 * 2 ** 30, messages: 100_000 },
      "the site's quota, in bytes",
    );
    assert.equal(
      store.maxMessageBytes,
      50 * 1024 * 1024,
      'the store takes the largest message any relay accepts',
    );
  });

  it("believes a PROXY header from the pool's load balancers only, the cluster's ranges by default", () => {
    const input = loadExample('siroe');
    const mmpOf = (render: RenderInput) =>
      mmpConfig.parse(
        JSON.parse(
          find<V1ConfigMap>(renderSite(render).objects, 'ConfigMap', 'access-mmp-config').data![
            'config.json'
          ]!,
        ),
      );
    const withService = (service: Record<string, unknown>): RenderInput => ({
      ...input,
      pools: input.pools.map((p) => ({
        ...p,
        spec: { ...p.spec, service: { ...p.spec.service, ...service } },
      })) as RenderInput['pools'],
    });
    // Every listener of the pool carries the peers whose PROXY header counts.
    const fromOf = (render: RenderInput) => mmpOf(render).listeners.map((l) => l.proxyProtocolFrom);
    for (const from of fromOf(withService({ proxyProtocol: 'v2' })))
      assert.deepEqual(from, ['10.244.0.0/16', '10.96.0.0/12']);
    for (const from of fromOf(withService({ proxyProtocol: 'v2', proxyProtocolFrom: ['192.0.2.10/32'] })))
      assert.deepEqual(from, ['192.0.2.10/32']);
    for (const from of fromOf(withService({ proxyProtocol: 'none' })))
      assert.equal(from, undefined, 'no PROXY header, no one');
  });

  it("believes a PROXY header from a relay's load balancers only, on the listeners behind it", () => {
    const input = loadExample('siroe');
    const withService = (name: string, service: Record<string, unknown>): RenderInput => ({
      ...input,
      relays: input.relays.map((r) =>
        r.metadata.name === name
          ? { ...r, spec: { ...r.spec, service: { ...r.spec.service, ...service } } }
          : r,
      ) as RenderInput['relays'],
    });
    const configOf = (render: RenderInput, name: string) =>
      JSON.parse(
        find<V1ConfigMap>(renderSite(render).objects, 'ConfigMap', `${name}-mta-config`).data![
          'config.json'
        ]!,
      ) as unknown;
    const fromOf = (render: RenderInput, name: string) =>
      Object.fromEntries(
        (name === 'edge' ? internetMtaConfig : outboundMtaConfig)
          .parse(configOf(render, name))
          .listeners.map((l) => [l.name, l.proxyProtocolFrom]),
      );
    const clusterRanges = ['10.244.0.0/16', '10.96.0.0/12'];
    assert.deepEqual(fromOf(input, 'edge'), { smtp: clusterRanges }, "the cluster's ranges by default");
    assert.deepEqual(fromOf(withService('edge', { proxyProtocolFrom: ['192.0.2.10/32'] }), 'edge'), {
      smtp: ['192.0.2.10/32'],
    });
    // The outbound tier reads PROXY headers on its submission ports; its relay listener, reached by
    // the inbound tier pod to pod, never sees the load balancer and believes no one's.
    const outbound = withService('outbound', { proxyProtocol: 'v1', proxyProtocolFrom: ['192.0.2.0/28'] });
    assert.deepEqual(fromOf(outbound, 'outbound'), {
      submission: ['192.0.2.0/28'],
      submissions: ['192.0.2.0/28'],
      smtp: undefined,
    });
    assert.deepEqual(fromOf(input, 'outbound'), {
      submission: undefined,
      submissions: undefined,
      smtp: undefined,
    });
  });

  it('rolls the pods when their config changes, and only then', () => {
    const hash = (input: RenderInput) =>
      (
        find(renderSite(input).objects, 'StatefulSet', 'inbound-mta') as unknown as {
          spec: { template: V1PodTemplateSpec };
        }
      ).spec.template.metadata?.annotations?.[ANNOTATION_CONFIG_HASH];
    const input = loadExample('siroe');
    const before = hash(input);
    assert.match(before ?? '', /^[0-9a-f]{16}$/);
    assert.equal(hash(loadExample('siroe')), before);
    const changed = structuredClone(input);
    changed.topology.spec.domains.push('east.siroe.example');
    assert.notEqual(hash(changed), before);
  });

  it('asks cert-manager for a certificate only when an issuer is named', () => {
    const certificate = find<
      KubernetesObject & { spec: { dnsNames: string[]; issuerRef: { kind: string } } }
    >(renderSite(loadExample('siroe')).objects, 'Certificate', 'siroe-tls');
    assert.equal(certificate.spec.issuerRef.kind, 'ClusterIssuer');
    assert.ok(certificate.spec.dnsNames.includes('mx.siroe.example'));
    assert.ok(certificate.spec.dnsNames.includes('*.siroe-store.mail.svc.cluster.local'));
    assert.ok(!renderSite(loadExample('minimal')).objects.some((o) => o.kind === 'Certificate'));
  });

  it('warns when the internet-facing MTA has no inbound tier to hand mail to', () => {
    const text = readFileSync(`${REPO_ROOT}examples/minimal.yaml`, 'utf8');
    const withoutInbound = text
      .split(/^---$/m)
      .filter((doc) => !/name: inbound\n/.test(doc))
      .join('---');
    const { warnings } = renderSite(loadManifest(withoutInbound));
    assert.deepEqual(warnings, [
      {
        owner: { kind: 'MessagingTopology', name: 'small' },
        message: 'topology small has an internet-facing MTARelay but no inbound MTARelay to hand mail to',
      },
    ]);
  });
});

describe('dnsRecords', () => {
  it('points every MX at the internet-facing MTAs and gives the MMP only the client host name', () => {
    const { site } = renderSite(loadExample('siroe'));
    const records = dnsRecords(
      site,
      new Map([
        ['edge-mta', ['203.0.113.25']],
        ['access-mmp', ['203.0.113.143', 'mmp.lb.example']],
      ]),
    );
    assert.deepEqual(records, [
      { type: 'MX', name: 'siroe.example', value: 'mx.siroe.example', priority: 10 },
      { type: 'MX', name: 'west.siroe.example', value: 'mx.siroe.example', priority: 10 },
      { type: 'MX', name: 'legacy.siroe.example', value: 'mx.siroe.example', priority: 10 },
      { type: 'A', name: 'mx.siroe.example', value: '203.0.113.25' },
      { type: 'A', name: 'mail.siroe.example', value: '203.0.113.143' },
      { type: 'CNAME', name: 'mail.siroe.example', value: 'mmp.lb.example' },
    ]);
  });
});
