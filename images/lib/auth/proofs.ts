// How one of our programs proves itself to another, as pure functions. Both proofs are a fixed
// identity plus a shared secret the operator generates (Secret `<topology>-internal`) and mounts in
// both pods; the secret is compared in constant time so a guesser learns nothing from the timing.
//
// XCLIENT (the MMP's SMTP proxy → the outbound MTA, Postfix's XCLIENT_README): an address check
// alone is not enough, since clients in the same networks reach the submission port too. So the
// proxy, over TLS, first authenticates with SASL PLAIN as XCLIENT_PROXY_IDENTITY with the secret,
// from one of the proxy networks; only then is XCLIENT offered. The proxy identity sends no mail of
// its own: the session must then name the real user (XCLIENT LOGIN=…) or authenticate the client.
//
// Store login (the MMP → a store): SASL PLAIN (RFC 4616) with authzid = the user, authcid = the
// MMP's identity, password = the secret. The MMP has checked the user's own password against the
// directory, so the store needs no directory of its own.
import { hash, timingSafeEqual } from 'node:crypto';
import type { AddressSet } from '../contract/cidr.ts';

export const XCLIENT_PROXY_IDENTITY = 'mtopo-smtp-proxy';

/**
 * Constant-time equality of two secrets. Both sides are hashed first, so neither the content nor
 * the length of the expected secret shows in the time taken.
 */
export function secretsEqual(given: string, expected: string): boolean {
  // crypto.hash: one call, no Hash object (it is on every store login's path).
  const a = hash('sha256', given, 'buffer');
  const b = hash('sha256', expected, 'buffer');
  // The hash compare is constant-time; an empty expected secret never matches (a missing file).
  return timingSafeEqual(a, b) && expected.length > 0;
}

export interface XclientProofInput {
  /** The SASL identity the client logged in as (authcid). */
  login: string;
  password: string;
  /** authzid, when the client sent one: the proxy acts for nobody at this step. */
  authzid?: string | undefined;
  /** The connection's address (after PROXY, before any XCLIENT). */
  client: string;
  /** Whether the session is encrypted: the secret never crosses the network in clear. */
  secure: boolean;
}

export interface XclientTrust {
  secret: string;
  peers: AddressSet;
}

export type ProofResult = { ok: true } | { ok: false; reason: string };

/** Whether a login is the XCLIENT proxy at all (so that the user path does not try it in the directory). */
export function isXclientProxyLogin(login: string): boolean {
  return login === XCLIENT_PROXY_IDENTITY;
}

export function checkXclientProof(input: XclientProofInput, trust: XclientTrust | undefined): ProofResult {
  if (!trust) return { ok: false, reason: 'this listener trusts no XCLIENT proxy' };
  if (!isXclientProxyLogin(input.login)) return { ok: false, reason: 'not the proxy identity' };
  if (input.authzid && input.authzid !== input.login)
    return { ok: false, reason: 'the proxy may not name a user at AUTH' };
  if (!input.secure) return { ok: false, reason: 'the proxy must prove itself over TLS' };
  // The secret is compared even when the address is wrong, so the answer's timing says nothing.
  const secretOk = secretsEqual(input.password, trust.secret);
  if (!trust.peers.has(input.client)) return { ok: false, reason: 'not from a proxy network' };
  if (!secretOk) return { ok: false, reason: 'wrong secret' };
  return { ok: true };
}

export interface StoreLoginInput {
  /** RFC 4616 authzid: the user to act as. */
  authzid: string;
  /** RFC 4616 authcid: who is proving. */
  authcid: string;
  password: string;
}

export interface StoreLoginTrust {
  /** The MMP's identity (authcid), e.g. "mmp". */
  proxyUser: string;
  secret: string;
}

export type StoreLoginResult = { ok: true; user: string } | { ok: false; reason: string };

/**
 * A store login by the MMP on a user's behalf. Only the proxy identity with the secret may log in,
 * and only as someone (an empty authzid would be the proxy acting as itself).
 */
export function checkStoreLogin(input: StoreLoginInput, trust: StoreLoginTrust): StoreLoginResult {
  const secretOk = secretsEqual(input.password, trust.secret);
  if (input.authcid !== trust.proxyUser) return { ok: false, reason: 'not the proxy identity' };
  if (!secretOk) return { ok: false, reason: 'wrong secret' };
  if (input.authzid === '' || input.authzid === trust.proxyUser)
    return { ok: false, reason: 'the proxy must name the user it acts for' };
  return { ok: true, user: input.authzid };
}
