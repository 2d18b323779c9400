// The certificates a site on the test node needs, made with openssl for the run: one CA, the site's
// certificate (what cert-manager would issue for the topology: the published names and every
// tier's Service name, certificateDnsNames) and the directory's (its servers are reached by address,
// so the names are IP SANs). The CA goes into the site's TLS Secret as ca.crt, as cert-manager's CA
// issuer writes it, and into the directory's CA Secret.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../testing/support/processes.ts';

export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface SitePki {
  readonly caFile: string;
  readonly site: Pem;
  readonly directory: Pem;
}

async function openssl(args: string[]): Promise<void> {
  const result = await run('openssl', args);
  if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function leaf(dir: string, name: string, ca: Pem, sans: readonly string[]): Promise<Pem> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(
    extFile,
    [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth, clientAuth',
      `subjectAltName = ${sans.join(', ')}`,
      '',
    ].join('\n'),
  );
  const csr = join(dir, `${name}.csr`);
  await openssl(['req', '-new', ...EC, '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csr]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    extFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}

/** A CA, the site's certificate for `dnsNames`, the directory's for `directoryAddresses`. */
export async function makeSitePki(
  dir: string,
  dnsNames: readonly string[],
  directoryAddresses: readonly string[],
): Promise<SitePki> {
  const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  await openssl([
    'req',
    '-x509',
    ...EC,
    '-days',
    '2',
    '-subj',
    '/CN=mtopo e2e CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    ca.keyFile,
    '-out',
    ca.certFile,
  ]);
  return {
    caFile: ca.certFile,
    site: await leaf(
      dir,
      'site',
      ca,
      dnsNames.map((n) => `DNS:${n}`),
    ),
    directory: await leaf(
      dir,
      'directory',
      ca,
      directoryAddresses.map((a) => `IP:${a}`),
    ),
  };
}
