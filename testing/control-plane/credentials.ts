// The secrets a throwaway control plane needs, made fresh for each one with node:crypto (no openssl):
// the key that signs ServiceAccount tokens, and a static bearer token for the admin user. The
// apiserver's serving certificate is not made here: kube-apiserver generates a self-signed one in
// its --cert-dir, and clients trust that file.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ControlPlaneCredentials {
  /** PEM private key: kube-apiserver signs ServiceAccount tokens with it, the controller-manager too. */
  readonly serviceAccountKeyPath: string;
  /** PEM public key: kube-apiserver verifies ServiceAccount tokens with it. */
  readonly serviceAccountPublicKeyPath: string;
  /** kube-apiserver's --token-auth-file. */
  readonly tokenFilePath: string;
  readonly adminUser: string;
  readonly adminToken: string;
}

export const ADMIN_USER = 'mtopo-test-admin';

export function writeControlPlaneCredentials(dir: string): ControlPlaneCredentials {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountKeyPath = path.join(dir, 'service-account.key');
  const serviceAccountPublicKeyPath = path.join(dir, 'service-account.pub');
  writeFileSync(serviceAccountKeyPath, privateKey, { mode: 0o600 });
  writeFileSync(serviceAccountPublicKeyPath, publicKey);

  // system:masters bypasses RBAC, like a cluster's bootstrap admin.
  const adminToken = randomBytes(24).toString('hex');
  const tokenFilePath = path.join(dir, 'tokens.csv');
  writeFileSync(tokenFilePath, `${adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, {
    mode: 0o600,
  });

  return {
    serviceAccountKeyPath,
    serviceAccountPublicKeyPath,
    tokenFilePath,
    adminUser: ADMIN_USER,
    adminToken,
  };
}
