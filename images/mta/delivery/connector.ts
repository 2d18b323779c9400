// Opens a connection to a destination: straight to the host of a store, the gateway, a route or
// the smarthost; for the internet, to the first of the domain's MX hosts that answers.
import { describeError } from '../../lib/errors.ts';
import { readSecretFile } from '../../lib/secret-file.ts';
import type { Destination } from '../core/routing.ts';
import { DestinationError } from './destination-queue.ts';
import { resolveMxHosts, type MxAnswer } from './mx-resolver.ts';
import { NextHopConnection, type ConnectionTimeouts } from './next-hop-connection.ts';

export interface ConnectorOptions {
  /** Our name in EHLO/LHLO. */
  name: string;
  timeouts?: ConnectionTimeouts;
  resolveMx?: (domain: string) => Promise<MxAnswer>;
  /** SMTP port of MX hosts: 25, except in tests. */
  mxPort?: number;
}

export function createConnector(
  options: ConnectorOptions,
): (destination: Destination) => Promise<NextHopConnection> {
  const resolveMx = options.resolveMx ?? ((domain: string) => resolveMxHosts(domain));
  const open = (
    host: string,
    port: number,
    destination: Destination,
    auth?: { user: string; pass: string },
  ) =>
    NextHopConnection.open(
      { host, port, lmtp: destination.kind === 'lmtp', tls: destination.tls, ...(auth ? { auth } : {}) },
      { name: options.name, ...(options.timeouts ? { timeouts: options.timeouts } : {}) },
    );

  return async (destination) => {
    if (destination.kind !== 'mx') {
      // Read at each connect, so a rotated Secret is used without a restart.
      const auth =
        destination.kind === 'smtp' && destination.auth
          ? {
              user: readSecretFile(destination.auth.usernameFile),
              pass: readSecretFile(destination.auth.passwordFile),
            }
          : undefined;
      return open(destination.host, destination.port, destination, auth);
    }
    const answer = await resolveMx(destination.domain);
    switch (answer.kind) {
      case 'null-mx':
        throw new DestinationError(`${destination.domain} accepts no mail (null MX, RFC 7505)`, {
          permanent: true,
          enhanced: '5.1.10',
        });
      case 'no-domain':
        throw new DestinationError(`${destination.domain} does not exist (NXDOMAIN)`, {
          permanent: true,
          enhanced: '5.1.2',
        });
      case 'error':
        throw new DestinationError(answer.reason, { permanent: false, enhanced: '4.4.3' });
      case 'hosts':
        break;
    }
    const errors: string[] = [];
    for (const host of answer.hosts) {
      try {
        return await open(host, options.mxPort ?? 25, destination);
      } catch (error) {
        errors.push(`${host}: ${describeError(error)}`);
      }
    }
    throw new DestinationError(`no MX host of ${destination.domain} answered (${errors.join('; ')})`, {
      permanent: false,
      enhanced: '4.4.1',
    });
  };
}
