// For the tests: the examples of the repository, resolved into a site and its flows as the CLI would.
import { siteFlows, type Flow } from '../render/firewall/flows.ts';
import { resolveSite, type Site } from '../render/site.ts';
import { loadExample as loadRenderInput, loadManifest, type EXAMPLES } from '../render/test-support.ts';
import type { RenderInput } from '../render/render.ts';

export { EXAMPLES } from '../render/test-support.ts';
export type ExampleName = (typeof EXAMPLES)[number];

function siteOf(input: RenderInput): { site: Site; flows: Flow[] } {
  const { site } = resolveSite(input.topology, input.relays, input.pools);
  return { site, flows: siteFlows(site) };
}

export function siteFromYaml(yaml: string): { site: Site; flows: Flow[] } {
  return siteOf(loadManifest(yaml));
}

export function loadExample(name: ExampleName): { site: Site; flows: Flow[] } {
  return siteOf(loadRenderInput(name));
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
