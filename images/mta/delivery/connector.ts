// Opens a connection to a destination: straight to the host of a store, the gateway, a route or
// the smarthost; for the internet, to the first of the domain's MX hosts that answers.
//
// Host names are resolved here, at each connect, and the connection is opened to the address:
// Nodemailer resolves names itself and keeps the answers for five minutes, so a store pod that
// came back with a new address was unreachable for that long (its old address refused), while
// every message for it waited in the queue (found by the store-deletion fault on the node).
import { lookup } from 'node:dns/promises';
import { addressFamily } from '../../lib/contract/cidr.ts';
import { describeError } from '../../lib/errors.ts';
import { readSecretFile } from '../../lib/secret-file.ts';
import type { Destination } from '../core/routing.ts';
import { DestinationError } from './destination-queue.ts';
import { MxResolver, type MxAnswer } from './mx-resolver.ts';
import { NextHopConnection, type ConnectionTimeouts } from './next-hop-connection.ts';

export interface ConnectorOptions {
  /** Our name in EHLO/LHLO. */
  name: string;
  timeouts?: ConnectionTimeouts;
  /** MX and address lookups (the pod's resolvers by default). */
  resolver?: MxResolver;
  /** Replaces the MX lookup (tests that need no DNS server). */
  resolveMx?: (domain: string) => Promise<MxAnswer>;
  /** SMTP port of MX hosts: 25, except in tests on loopback. */
  mxPort?: number;
  /** A host's addresses, as the system resolves them (getaddrinfo: search domains, /etc/hosts). */
  lookupAddresses?: (host: string) => Promise<string[]>;
}

const systemAddresses = async (host: string): Promise<string[]> =>
  (await lookup(host, { all: true, order: 'verbatim' })).map((a) => a.address);

export function createConnector(
  options: ConnectorOptions,
): (destination: Destination) => Promise<NextHopConnection> {
  const resolver = options.resolver ?? new MxResolver();
  const resolveMx = options.resolveMx ?? ((domain: string) => resolver.mxHosts(domain));
  const lookupAddresses = options.lookupAddresses ?? systemAddresses;
  const open = (
    host: string,
    port: number,
    destination: Destination,
    auth?: { user: string; pass: string },
    address?: string,
  ) =>
    NextHopConnection.open(
      {
        host,
        ...(address ? { address } : {}),
        port,
        lmtp: destination.kind === 'lmtp',
        tls: destination.tls,
        ...(auth ? { auth } : {}),
      },
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
      if (addressFamily(destination.host)) return open(destination.host, destination.port, destination, auth);
      let addresses: string[];
      try {
        addresses = await lookupAddresses(destination.host);
      } catch (error) {
        throw new DestinationError(`${destination.host}: address lookup failed: ${describeError(error)}`, {
          permanent: false,
          enhanced: '4.4.3',
        });
      }
      const errors: string[] = [];
      // Every address of the host in turn (a headless Service names each pod's).
      for (const address of addresses) {
        try {
          return await open(destination.host, destination.port, destination, auth, address);
        } catch (error) {
          if (address === addresses.at(-1) && errors.length === 0) throw error;
          errors.push(`[${address}]: ${describeError(error)}`);
        }
      }
      throw new DestinationError(`no address of ${destination.host} answered (${errors.join('; ')})`, {
        permanent: false,
        enhanced: '4.4.1',
      });
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
    // In preference order; an MX host without an address, or whose addresses do not answer, is
    // skipped for the next (RFC 5321 section 5.1).
    for (const host of answer.hosts) {
      let addresses: string[];
      try {
        addresses = await resolver.addresses(host);
      } catch (error) {
        errors.push(`${host}: address lookup failed: ${describeError(error)}`);
        continue;
      }
      if (addresses.length === 0) errors.push(`${host}: no A or AAAA record`);
      for (const address of addresses) {
        try {
          return await open(host, options.mxPort ?? 25, destination, undefined, address);
        } catch (error) {
          errors.push(`${host} [${address}]: ${describeError(error)}`);
        }
      }
    }
    throw new DestinationError(`no MX host of ${destination.domain} answered (${errors.join('; ')})`, {
      permanent: false,
      enhanced: '4.4.1',
    });
  };
}
