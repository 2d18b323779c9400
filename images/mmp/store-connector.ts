// Connecting to a user's store and logging in there for the user: resolve the store's name, try its
// addresses one by one (each with a connect and a login deadline), and run the protocol's store-login
// state machine over the socket. A store that answers and refuses the MMP is not tried again on
// another address (the same mailbox, the same answer); one that does not answer is.
import { lookup } from 'node:dns/promises';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { describeError } from '../lib/errors.ts';
import { TtlCache } from '../lib/ttl-cache.ts';
import { loginLimits, STORE_ADDRESS_TTL_MS } from './limits.ts';
import { addressOrder } from './routing/store-route.ts';
import { ignoreError } from '../lib/server/listener.ts';
import { nextReadBuffer, readIntoPair } from './splice.ts';
import type { WarmConnection, WarmConnections } from './warm-connections.ts';
import type { StoreLogin, StoreLoginStep } from './store-login/store-login.ts';

export interface StoreTls {
  /** CA to check the store's certificate with; the system's when absent. */
  ca?: Buffer;
}

export type StoreConnection =
  | {
      ok: true;
      socket: Socket;
      toClient: string;
      rest: Buffer;
      address: string;
      ehlo?: readonly string[] | undefined;
      /** The store will hand this connection back after LOGOUT (splice.ts); 0 when not. */
      handbackId: number;
    }
  | { ok: false; failure: 'store-down' | 'store-refused'; detail: string; failedAddresses: number };

export interface StoreTarget {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (the stores' storeTls). */
  tls?: StoreTls | undefined;
  /** TLS when the login asks for it (SMTP STARTTLS to the outbound MTA), checked with this CA. */
  starttls?: StoreTls | undefined;
}

/** Which address of each store worked last, so the next login tries it first. */
const lastGood = new Map<string, string>();

/**
 * Resolved store names, for a few seconds: a burst of logins should not queue a getaddrinfo each
 * on libuv's four threads, and a store's headless-Service name changes only when its pod moves.
 */
const resolved = new TtlCache<string, string[]>({ ttlMs: STORE_ADDRESS_TTL_MS, maxEntries: 1024 });

async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  const cached = resolved.get(host);
  if (cached) return cached;
  const found = (await lookup(host, { all: true })).map((a) => a.address);
  resolved.set(host, found);
  return found;
}

const DEFAULT_TIMEOUTS = {
  connectMs: loginLimits.storeConnectTimeoutMs,
  loginMs: loginLimits.storeLoginTimeoutMs,
};

export async function connectToStore(
  target: StoreTarget,
  newLogin: () => StoreLogin,
  timeouts = DEFAULT_TIMEOUTS,
  /** Connections opened ahead (warm-connections.ts); none for an SMTP relay (its login starts TLS). */
  warm?: WarmConnections,
): Promise<StoreConnection> {
  let addresses: string[];
  try {
    addresses = addressOrder(await addressesOf(target.host), lastGood.get(target.host));
  } catch (error) {
    return {
      ok: false,
      failure: 'store-down',
      detail: `cannot resolve ${target.host}: ${describeError(error)}`,
      failedAddresses: 0,
    };
  }
  const problems: string[] = [];
  let failed = 0;
  for (const address of addresses) {
    const key = `${address}:${target.port}`;
    const ready = warm?.take(key);
    const onWarm = ready ? tryAddress(address, target, newLogin(), timeouts, ready) : undefined;
    // After the login on the warm connection has written its first command: the next connection's
    // connect(2), a whole loopback handshake, is then not on this login's way. One the store
    // handed back after a LOGOUT is replaced by the next handback, not a connect.
    if (!ready?.handedBack) warm?.refill(key, () => openReady(address, target, timeouts.connectMs));
    let outcome = onWarm ? await onWarm : undefined;
    // A waiting connection the store had given up on is no verdict on the store: try a fresh one.
    if (!outcome || (!outcome.ok && outcome.failure === 'store-down'))
      outcome = await tryAddress(address, target, newLogin(), timeouts);
    if (outcome.ok) {
      lastGood.set(target.host, address);
      return outcome;
    }
    if (outcome.failure === 'store-refused') return { ...outcome, failedAddresses: failed };
    failed++;
    problems.push(`${address}: ${outcome.detail}`);
  }
  return {
    ok: false,
    failure: 'store-down',
    detail: problems.join('; ') || 'no address',
    failedAddresses: failed,
  };
}

function openSocket(address: string, target: StoreTarget): Socket {
  let socket: Socket;
  if (target.tls)
    socket = connectTls({
      host: address,
      port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      ca: target.tls.ca,
    });
  else if (target.starttls) socket = connectTcp({ host: address, port: target.port });
  else
    // A plain store connection reads into one buffer of its own (splice.ts, readIntoPair): a bulk
    // FETCH then costs no buffer per read. TLS, implicit or started, reads its own way.
    socket = connectTcp({
      host: address,
      port: target.port,
      onread: { buffer: () => nextReadBuffer(socket), callback: readIntoPair },
    });
  socket.setNoDelay(true);
  return socket;
}

/** A connection for the warm pool: resolved once connected (and past TLS), undefined on failure. */
function openReady(address: string, target: StoreTarget, connectMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = openSocket(address, target);
    const timer = setTimeout(() => fail(), connectMs);
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    };
    socket.once('error', fail);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

function tryAddress(
  address: string,
  target: StoreTarget,
  login: StoreLogin,
  timeouts: { connectMs: number; loginMs: number },
  ready?: WarmConnection,
): Promise<StoreConnection> {
  return new Promise((resolve) => {
    let settled = false;
    let socket: Socket = ready ? ready.socket : openSocket(address, target);
    const settle = (result: StoreConnection) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      // The login's error handler holds the login (its reader, the warm connection's bytes) in its
      // closure: a spliced session would keep them for its life. An error from here on is the
      // splice's (it follows with 'close'); until the splice listens, it is ignored.
      socket.off('error', onError);
      socket.on('error', ignoreError);
      if (!result.ok) socket.destroy();
      else socket.pause();
      resolve(result);
    };
    const fail = (detail: string) => settle({ ok: false, failure: 'store-down', detail, failedAddresses: 1 });
    const awaitLogin = () =>
      setTimeout(() => fail(`no login answer within ${timeouts.loginMs} ms`), timeouts.loginMs);
    let timer = ready
      ? awaitLogin()
      : setTimeout(() => fail(`no connection within ${timeouts.connectMs} ms`), timeouts.connectMs);
    if (!ready)
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        timer = awaitLogin();
      });
    const onError = (error: Error) => fail(describeError(error));
    socket.on('error', onError);
    // Taken off by name, never by removeAllListeners: that would also take a socket's 'close' out of
    // the listener table Node gives every stream in a fixed shape, which then turns into a
    // dictionary (448 bytes more for each spliced session, held for its life).
    const onClosed = () => fail('closed during login');
    socket.once('close', onClosed);
    const onData = (chunk: Buffer) => {
      for (const step of login.receive(chunk)) handle(step);
    };
    const startTls = () => {
      if (!target.starttls || !login.tlsStarted)
        return fail('the login asked for TLS, which is not configured');
      const plain = socket;
      plain.off('data', onData);
      plain.off('close', onClosed);
      const secure = connectTls({
        socket: plain,
        // The name the certificate must carry (an IP address is checked against its IP SANs).
        host: target.host,
        servername: isIP(target.host) ? undefined : target.host,
        ca: target.starttls.ca,
      });
      socket = secure;
      // The plain socket's errors surface on the TLS socket; it keeps a quiet handler of its own.
      plain.off('error', onError);
      plain.on('error', ignoreError);
      secure.on('error', onError);
      secure.once('close', onClosed);
      secure.once('secureConnect', () => {
        secure.on('data', onData);
        for (const step of login.tlsStarted!()) handle(step);
      });
    };
    const handle = (step: StoreLoginStep) => {
      if (settled) return;
      if (step.kind === 'send') socket.write(step.data);
      else if (step.kind === 'start-tls') startTls();
      else if (step.kind === 'logged-in') {
        socket.off('close', onClosed);
        settle({
          ok: true,
          socket,
          toClient: step.toClient,
          rest: step.rest,
          address,
          ehlo: step.ehlo,
          handbackId: step.handbackId ?? 0,
        });
      } else if (step.kind === 'refused')
        settle({ ok: false, failure: 'store-refused', detail: step.text, failedAddresses: 0 });
      else fail(step.text);
    };
    socket.on('data', onData);
    if (ready && ready.received.length > 0) onData(ready.received);
  });
}
