import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dump } from 'js-yaml';
import { siteFlows } from '../../operator/src/render/firewall/flows.ts';
import { renderSite } from '../../operator/src/render/render.ts';
import { loadExample, loadManifest } from '../../operator/src/render/test-support.ts';
import { siroeOnNode } from './siroe-on-node.ts';

const addresses = {
  clusterCIDRs: ['10.251.0.0/24', '10.252.0.0/24'],
  directory: ['10.20.0.5', '10.20.0.6'],
  legacyNotes: '10.30.5.10',
  tlsSecretName: 'siroe-tls',
  bindSecretName: 'ldap-bind',
  directoryBaseDN: 'dc=example,dc=test',
  directoryCaSecretName: 'directory-ca',
};

describe('siroe on the test node', () => {
  const adaptedText = siroeOnNode(addresses)
    .map((doc) => dump(doc))
    .join('---\n');
  // Through the operator's own parser: the adapted site must be valid as users' files are.
  const adapted = loadManifest(adaptedText, 'siroe-on-node');
  const original = loadExample('siroe');

  it('keeps every tier, replica count and flow of the example', () => {
    const tiers = (input: typeof original) =>
      [...input.relays, ...input.pools].map((r) => [r.kind, r.metadata.name, r.spec.replicas]);
    assert.deepEqual(tiers(adapted), tiers(original));
    assert.equal(adapted.topology.spec.stores.replicas, original.topology.spec.stores.replicas);
    const purposes = (input: typeof original) => siteFlows(renderSite(input).site).map((f) => f.purpose);
    assert.deepEqual(purposes(adapted), purposes(original));
  });

  it('changes only addresses, the directory, the certificate source and the stores CPU reservation', () => {
    const spec = adapted.topology.spec;
    const before = original.topology.spec;
    assert.deepEqual(spec.directory.urls, ['ldaps://10.20.0.5', 'ldaps://10.20.0.6']);
    assert.equal(spec.directory.baseDN, 'dc=example,dc=test');
    assert.deepEqual(spec.directory.caSecretRef, { name: 'directory-ca' });
    assert.deepEqual(spec.directory.attributes, before.directory.attributes);
    assert.deepEqual(spec.network.clusterCIDRs, addresses.clusterCIDRs);
    assert.deepEqual(spec.tls.secretRef, { name: 'siroe-tls' });
    assert.equal(spec.tls.issuerRef, undefined);
    assert.equal(spec.stores.resources?.requests?.cpu, '100m');
    assert.deepEqual(spec.domains, before.domains);
    assert.deepEqual(spec.publish, before.publish);
    assert.deepEqual(spec.network.clientZones, before.network.clientZones);
    const gateway = adapted.relays.find((r) => r.spec.role === 'gateway')!;
    assert.deepEqual(gateway.spec.routes?.[0]?.to.host, '10.30.5.10');
  });

  it('refuses a node with a different number of directory servers', () => {
    assert.throws(() => siroeOnNode({ ...addresses, directory: ['10.20.0.5'] }), /2 directory servers/);
  });
});
