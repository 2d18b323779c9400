// The store-login proof until the kit's (images/lib/auth/proofs.ts, on the MTA branch) reaches
// main: only the MMP's proxy identity with the shared secret, naming a user. Both sides digested
// first, so timingSafeEqual compares in constant time whatever length was sent.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { LoginCheck } from './session.ts';

function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

export function proxyLoginCheck(identity: string, secret: () => string): LoginCheck {
  return ({ authzid, authcid, password }) => {
    const secretOk = secretsEqual(password, secret());
    if (authcid !== identity) return { ok: false, reason: 'not the proxy identity' };
    if (!secretOk) return { ok: false, reason: 'wrong secret' };
    if (authzid === '' || authzid === identity)
      return { ok: false, reason: 'the proxy must name the user it acts for' };
    return { ok: true, user: authzid };
  };
}
