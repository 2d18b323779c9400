import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OUTSIDE, setupCommands, teardownCommands } from './outside-network.ts';

describe('the outside namespace', () => {
  const spec = {
    addresses: ['10.20.0.5', '203.0.113.25'],
    clusterRanges: ['10.251.0.0/24', '10.252.0.0/24'],
  };
  const commands = setupCommands(spec).map((c) => c.join(' '));

  it('holds every zone address on its loopback and routes only those to it from the node', () => {
    for (const address of spec.addresses) {
      assert.ok(commands.includes(`-n ${OUTSIDE.netns} addr add ${address}/32 dev lo`));
      assert.ok(
        commands.includes(
          `-n ${OUTSIDE.nodeNetns} route add ${address}/32 via ${OUTSIDE.outsideAddress} dev ${OUTSIDE.nodeVeth}`,
        ),
      );
    }
  });

  it('sends only the cluster ranges back to the node, and adds no default route', () => {
    const outsideRoutes = commands.filter((c) => c.startsWith(`-n ${OUTSIDE.netns} route add`));
    assert.deepEqual(
      outsideRoutes.map((c) => c.split(' ')[4]),
      spec.clusterRanges,
    );
    assert.ok(!commands.some((c) => / route add (default|0\.0\.0\.0\/0)/.test(c)));
  });

  it('creates the namespace first and the veth pair inside the node namespace', () => {
    assert.equal(commands[0], `netns add ${OUTSIDE.netns}`);
    assert.match(commands[1]!, new RegExp(`^-n ${OUTSIDE.nodeNetns} link add .* netns ${OUTSIDE.netns}$`));
    assert.deepEqual(teardownCommands(), [['netns', 'delete', OUTSIDE.netns]]);
  });

  it('refuses IPv6 addresses it has no routes for', () => {
    assert.throws(() => setupCommands({ addresses: ['2001:db8::1'], clusterRanges: [] }), /IPv4/);
  });
});
