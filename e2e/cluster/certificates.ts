// The one certificate pair the node needs beyond what kube-apiserver makes itself: a CA the kubelet
// trusts for client certificates, and the client certificate kube-apiserver presents to the kubelet
// (logs, exec, port-forward). Everyone else authenticates with bearer tokens. openssl (Debian's)
// signs them; node:crypto cannot issue X.509 certificates.
import path from 'node:path';
import { run } from '../../testing/support/processes.ts';

export interface KubeletClientCertificates {
  readonly caPath: string;
  readonly clientCertificatePath: string;
  readonly clientKeyPath: string;
}

async function openssl(args: string[]): Promise<void> {
  const result = await run('openssl', args, { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

export async function writeKubeletClientCertificates(dir: string): Promise<KubeletClientCertificates> {
  const file = (name: string): string => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('kubelet-ca.key'),
    '-out',
    file('kubelet-ca.crt'),
    '-days',
    '7',
    '-subj',
    '/CN=mtopo-e2e-kubelet-client-ca',
  ]);
  // system:masters: the kubelet's webhook authorizer then allows the API server everything.
  await openssl([
    'req',
    ...ec,
    '-keyout',
    file('apiserver-kubelet-client.key'),
    '-out',
    file('apiserver-kubelet-client.csr'),
    '-subj',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    file('apiserver-kubelet-client.csr'),
    '-CA',
    file('kubelet-ca.crt'),
    '-CAkey',
    file('kubelet-ca.key'),
    '-CAcreateserial',
    '-out',
    file('apiserver-kubelet-client.crt'),
    '-days',
    '7',
  ]);
  return {
    caPath: file('kubelet-ca.crt'),
    clientCertificatePath: file('apiserver-kubelet-client.crt'),
    clientKeyPath: file('apiserver-kubelet-client.key'),
  };
}
