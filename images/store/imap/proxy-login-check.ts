// The LoginCheck the listener uses: the MMP's proxy identity and the shared secret from the
// operator's Secret. Both digested to equal length first, so timingSafeEqual compares in constant
// time whatever was sent (a length mismatch must not answer faster).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { LoginCheck } from './session.ts';

export function proxyLoginCheck(identity: string, secret: () => string): LoginCheck {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return {
    verify(authcid, password) {
      const idOk = timingSafeEqual(digest(authcid), digest(identity));
      const secretOk = timingSafeEqual(digest(password), digest(secret()));
      return idOk && secretOk && secret().length > 0;
    },
  };
}
