// For the tests: the examples of the repository, parsed and resolved as the CLI would.
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { parseResource, type Resource } from '../api/parse.ts';
import type { MessagingTopology } from '../api/messaging-topology.ts';
import type { MMPPool } from '../api/mmp-pool.ts';
import type { MTARelay } from '../api/mta-relay.ts';
import { siteFlows, type Flow } from '../render/firewall/flows.ts';
import { resolveSite, type Site } from '../render/site.ts';

export const EXAMPLES = ['siroe', 'minimal'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

export function resourcesFromYaml(yaml: string): Resource[] {
  return loadAll(yaml)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc, index) => {
      const result = parseResource(doc, index);
      if (!result.ok)
        throw new Error(result.problems.map((p) => `${p.object} ${p.field}: ${p.message}`).join('\n'));
      return result.resource;
    });
}

export function siteFromYaml(yaml: string): { site: Site; flows: Flow[] } {
  const resources = resourcesFromYaml(yaml);
  const topology = resources.find((r): r is MessagingTopology => r.kind === 'MessagingTopology');
  if (!topology) throw new Error('no MessagingTopology in the document');
  const relays = resources.filter((r): r is MTARelay => r.kind === 'MTARelay');
  const pools = resources.filter((r): r is MMPPool => r.kind === 'MMPPool');
  const { site } = resolveSite(topology, relays, pools);
  return { site, flows: siteFlows(site) };
}

export function loadExample(name: ExampleName): { site: Site; flows: Flow[] } {
  return siteFromYaml(readFileSync(new URL(`../../../examples/${name}.yaml`, import.meta.url), 'utf8'));
}

/** A topology with no relays and no pools: only its stores. */
export const BARE_SITE = `
apiVersion: mtopo.dev/v1alpha1
kind: MessagingTopology
metadata: {name: bare, namespace: mail}
spec:
  domains: [bare.example]
  directory: {urls: ['ldap://ldap.bare.example'], baseDN: dc=bare, bindSecretRef: {name: b}, cidrs: [192.0.2.1/32]}
  stores: {replicas: 2}
  tls: {secretRef: {name: t}}
`;
