// Reads a PROXY header off a freshly accepted socket, leaving everything after it (the client's
// first bytes, if it talked early) in the socket for the protocol to read.
import type { Socket } from 'node:net';
import { MtopoError } from '../errors.ts';
import { parseProxyHeader, type ProxyVersion } from './proxy-protocol.ts';

export interface ProxiedPeer {
  /** Undefined for a LOCAL/UNKNOWN header: the balancer speaking for itself. */
  address: string | undefined;
  port: number | undefined;
}

export function readProxyHeader(
  socket: Socket,
  version: ProxyVersion,
  timeoutMs: number,
): Promise<ProxiedPeer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (error: Error | null, peer?: ProxiedPeer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
      if (error) reject(error);
      else resolve(peer!);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered, version);
      if (parsed.status === 'incomplete') return;
      if (parsed.status === 'invalid') {
        finish(new MtopoError('EPROXY', parsed.reason));
        return;
      }
      const rest = buffered.subarray(parsed.headerLength);
      // Stop listening and pause first: unshifting into a flowing socket emits 'data' again at
      // once, and this listener would take the rest for more header bytes — a loop that grew
      // without bound whenever the client's first bytes came in the header's segment.
      finish(null, { address: parsed.source?.address, port: parsed.source?.port });
      if (rest.length > 0) socket.unshift(rest);
    };
    const onEnd = () => finish(new MtopoError('EPROXY', 'connection ended before the PROXY header'));
    const onError = (error: Error) =>
      finish(new MtopoError('EPROXY', `socket error before the PROXY header: ${error.message}`));
    const timer = setTimeout(
      () => finish(new MtopoError('EPROXY', `no PROXY header within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    // Accepted with pauseOnConnect, so that nothing is read before this listener is in place.
    socket.resume();
  });
}
