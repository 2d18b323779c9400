import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PORTS } from '../../images/lib/contract/ports.ts';
import { siteFlows } from '../../operator/src/render/firewall/flows.ts';
import { renderSite } from '../../operator/src/render/render.ts';
import { loadExample } from '../../operator/src/render/test-support.ts';
import { probePlan, type Probe } from './probe-plan.ts';

const { site } = renderSite(loadExample('siroe'));
const flows = siteFlows(site);
const plan = probePlan(site, flows);

const find = (from: string, to: string, port: number): Probe | undefined =>
  plan.find((p) => p.from.name === from && p.to.name === to && p.port === port);
const expectOf = (from: string, to: string, port: number) => find(from, to, port)?.expect;

describe('probe plan from the firewall model (siroe)', () => {
  it('tries every admitted flow on every TCP port it names', () => {
    for (const flow of flows) {
      if (flow.from.kind === 'zone' && flow.to.kind === 'zone') continue;
      const from = flow.from.kind === 'tier' ? flow.from.tier.name : flow.from.zone;
      const to = flow.to.kind === 'tier' ? flow.to.tier.name : flow.to.zone;
      for (const port of flow.ports.filter((p) => p.protocol === 'TCP')) {
        assert.equal(
          expectOf(from, to, port.port),
          'open',
          `${from} -> ${to}:${port.port} (${flow.purpose})`,
        );
      }
    }
  });

  it('lets the internet reach the DMZ MTA and nothing behind it', () => {
    assert.equal(expectOf('internet', 'edge-mta', 2525), 'open');
    const inward = plan.filter(
      (p) => p.from.name === 'internet' && p.to.kind === 'tier' && p.to.name !== 'edge-mta',
    );
    assert.ok(inward.length > 5);
    for (const probe of inward)
      assert.equal(probe.expect, 'closed', `internet -> ${probe.to.name}:${probe.port}`);
  });

  it('keeps the DMZ MTA away from the directory, the stores and the outbound tier', () => {
    const fromEdge = plan.filter((p) => p.from.name === 'edge-mta');
    for (const to of ['directory', 'siroe-store', 'outbound-mta']) {
      const probes = fromEdge.filter((p) => p.to.name === to);
      assert.ok(probes.length > 0, `edge-mta is probed against ${to}`);
      for (const probe of probes) assert.equal(probe.expect, 'closed', `edge-mta -> ${to}:${probe.port}`);
    }
  });

  it('lets only the outbound tier leave on 25', () => {
    const leaving = plan.filter((p) => p.to.name === 'internet' && p.port === 25);
    assert.deepEqual(
      leaving.filter((p) => p.expect === 'open').map((p) => p.from.name),
      ['outbound-mta'],
    );
    assert.ok(leaving.length >= 5, 'every tier is tried');
  });

  it('aims closed probes only at ports the destination listens on, and never at a tier itself', () => {
    for (const probe of plan)
      assert.ok(!(probe.from.kind === probe.to.kind && probe.from.name === probe.to.name));
    const storePorts = new Set(plan.filter((p) => p.to.name === 'siroe-store').map((p) => p.port));
    const listening = [PORTS.lmtp, PORTS.imap, PORTS.pop3, PORTS.http].map((p) => p.container);
    assert.deepEqual(
      [...storePorts].sort((a, b) => a - b),
      listening.sort((a, b) => a - b),
    );
  });
});
