// The client's credentials, against an HTTPS server on loopback that requires a client certificate
// and answers with the name in it: certificates from an exec credential plugin rotate, and the
// client must present the new one once the old credential expires (as client-go does).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { clusterAccessFromKubeconfig } from './cluster-access.ts';
import { makeSelfSignedCertificate } from '../../../../testing/peers/tls-fixture.ts';
import { KubeClient } from './rest-client.ts';

async function certificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const own = join(dir, name);
  mkdirSync(own);
  const { certFile, keyFile } = await makeSelfSignedCertificate(own, name);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

describe('KubeClient credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtopo-client-'));
  let server: Server;
  let kubeconfigFile: string;
  const current = join(dir, 'current.json');
  const ports = new Set<number>();

  before(async () => {
    const serving = await certificate(dir, 'server');
    const clients = { a: await certificate(dir, 'user-a'), b: await certificate(dir, 'user-b') };
    writeFileSync(join(dir, 'a.json'), JSON.stringify(clients.a));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(clients.b));
    writeFileSync(current, JSON.stringify(clients.a));
    // Answers every GET with an object named for the client certificate the connection presented.
    server = createServer(
      { ...serving, requestCert: true, rejectUnauthorized: false },
      (request, response) => {
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        ports.add(request.socket.remotePort ?? 0);
        response.setHeader('Content-Type', 'application/json');
        response.end(
          JSON.stringify({
            kind: 'ConfigMap',
            apiVersion: 'v1',
            metadata: { name: peer.subject?.CN ?? 'none' },
          }),
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // The exec plugin hands out whatever credential `current.json` holds, valid for one second.
    const plugin = join(dir, 'plugin.mjs');
    writeFileSync(
      plugin,
      `import { readFileSync } from 'node:fs';
const { cert, key } = JSON.parse(readFileSync(${JSON.stringify(current)}, 'utf8'));
process.stdout.write(JSON.stringify({
  apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
  status: { clientCertificateData: cert, clientKeyData: key, expirationTimestamp: new Date(Date.now() + 1000).toISOString() },
}));
`,
    );
    kubeconfigFile = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigFile,
      dump({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'local',
        clusters: [
          {
            name: 'local',
            cluster: {
              server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
              'certificate-authority-data': Buffer.from(serving.cert).toString('base64'),
            },
          },
        ],
        users: [
          {
            name: 'rotating',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: process.execPath,
                args: [plugin],
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: 'local', context: { cluster: 'local', user: 'rotating' } }],
      }),
    );
  });
  after(() => {
    server?.close();
    server?.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  const loaders = {
    "the operator's own loader (cluster-access.ts)": () => clusterAccessFromKubeconfig(kubeconfigFile),
    "client-node's KubeConfig (tests and tools)": () => {
      const config = new KubeConfig();
      config.loadFromFile(kubeconfigFile);
      return config;
    },
  };
  for (const [loader, load] of Object.entries(loaders)) {
    it(`presents a rotated client certificate once the exec credential expires: ${loader}`, async () => {
      writeFileSync(current, readFileSync(join(dir, 'a.json')));
      ports.clear();
      const client = new KubeClient(load(), { fieldManager: 'test' });
      const whoami = async () => (await client.get('ConfigMap', 'default', 'x'))?.metadata?.name;
      for (let i = 0; i < 5; i++) assert.equal(await whoami(), 'user-a');
      assert.ok(
        ports.size < 5,
        `connections are reused while the certificate stays the same (${ports.size} for 5)`,
      );
      writeFileSync(current, readFileSync(join(dir, 'b.json')));
      const deadline = Date.now() + 15_000;
      let name = await whoami();
      while (name !== 'user-b' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        name = await whoami();
      }
      assert.equal(name, 'user-b');
    });
  }
});
