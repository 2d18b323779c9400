import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionAllowed, type PodEndpoint } from './evaluate.ts';
import type { NetworkPolicy } from './policy-types.ts';

const pod = (namespace: string, labels: Record<string, string>, ip: string): PodEndpoint => ({
  kind: 'pod',
  namespace,
  labels,
  namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
  ip,
});
const web = pod('a', { app: 'web' }, '10.1.0.1');
const db = pod('a', { app: 'db' }, '10.1.0.2');
const otherDb = pod('b', { app: 'db' }, '10.1.0.3');

const policy = (name: string, spec: NetworkPolicy['spec'], namespace = 'a'): NetworkPolicy => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

describe('connectionAllowed', () => {
  it('allows everything when no policy selects either pod', () => {
    assert.equal(connectionAllowed([], { from: web, to: db, port: 5432, protocol: 'TCP' }), true);
  });

  it('isolates a selected pod and admits only matching rules', () => {
    const policies = [
      policy('db', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: 'web' } } }],
            ports: [{ protocol: 'TCP', port: 5432 }],
          },
        ],
      }),
    ];
    assert.equal(connectionAllowed(policies, { from: web, to: db, port: 5432, protocol: 'TCP' }), true);
    assert.equal(connectionAllowed(policies, { from: web, to: db, port: 5433, protocol: 'TCP' }), false);
    assert.equal(connectionAllowed(policies, { from: web, to: db, port: 5432, protocol: 'UDP' }), false);
    assert.equal(connectionAllowed(policies, { from: db, to: db, port: 5432, protocol: 'TCP' }), false);
    assert.equal(
      connectionAllowed(policies, { from: web, to: otherDb, port: 5432, protocol: 'TCP' }),
      true,
      'a policy only selects pods of its own namespace',
    );
  });

  it('needs egress at the source as well as ingress at the destination', () => {
    const denyEgress = policy('deny', { podSelector: {}, policyTypes: ['Egress'], egress: [] });
    assert.equal(connectionAllowed([denyEgress], { from: web, to: db, port: 80, protocol: 'TCP' }), false);
    assert.equal(
      connectionAllowed([denyEgress], {
        from: { kind: 'external', ip: '192.0.2.1' },
        to: db,
        port: 80,
        protocol: 'TCP',
      }),
      true,
    );
  });

  it('honours ipBlock exceptions and address families', () => {
    const policies = [
      policy('out', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
            ports: [{ protocol: 'TCP', port: 25 }],
          },
        ],
      }),
    ];
    const to = (ip: string) => ({ kind: 'external' as const, ip });
    assert.equal(
      connectionAllowed(policies, { from: web, to: to('192.0.2.1'), port: 25, protocol: 'TCP' }),
      true,
    );
    assert.equal(
      connectionAllowed(policies, { from: web, to: to('10.3.2.1'), port: 25, protocol: 'TCP' }),
      false,
    );
    assert.equal(
      connectionAllowed(policies, { from: web, to: to('2001:db8::1'), port: 25, protocol: 'TCP' }),
      false,
    );
  });

  it('matches a namespace selector against namespace labels, not the policy namespace', () => {
    const policies = [
      policy('db', {
        podSelector: { matchLabels: { app: 'db' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }] }],
      }),
    ];
    const fromB = pod('b', { app: 'x' }, '10.1.0.9');
    assert.equal(connectionAllowed(policies, { from: fromB, to: db, port: 1, protocol: 'TCP' }), true);
    assert.equal(connectionAllowed(policies, { from: web, to: db, port: 1, protocol: 'TCP' }), false);
  });
});
