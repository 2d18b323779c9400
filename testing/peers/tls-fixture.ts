// A throwaway self-signed certificate (openssl) for TLS tests: a CA-less leaf for localhost and
// 127.0.0.1. Clients in tests either skip verification or trust this file as their CA.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../support/processes.ts';

export interface TlsFixture {
  certFile: string;
  keyFile: string;
}

export async function makeSelfSignedCertificate(dir: string, commonName = 'localhost'): Promise<TlsFixture> {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  // The fixture makes its own directory: callers start it beside servers that would otherwise make
  // it first only on an idle machine (CI saw openssl lose that race under load).
  await mkdir(dir, { recursive: true });
  const result = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    `subjectAltName=DNS:${commonName},IP:127.0.0.1`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  if (result.code !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { certFile, keyFile };
}
