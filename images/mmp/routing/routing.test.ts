// Routing decisions: which store, what a failure is called, and what the login cache may answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DirectoryEntry } from '../../lib/directory/entry.ts';
import { failureDelayMs, loginReply } from './login-replies.ts';
import { LoginCache, identityOf } from './login-cache.ts';
import { addressOrder, indexStores, routeToStore } from './store-route.ts';

const address = (host: string) => ({ host, lmtpPort: 2424, imapPort: 1143, pop3Port: 1110 });
const stores = indexStores({
  'siroe-store-0': address('siroe-store-0.siroe-store.mail.svc.cluster.local'),
  'siroe-store-0.siroe-store.mail.svc.cluster.local': address(
    'siroe-store-0.siroe-store.mail.svc.cluster.local',
  ),
  'siroe-store-1': address('siroe-store-1.siroe-store.mail.svc.cluster.local'),
});
const entry = (mailHost?: string): DirectoryEntry => ({
  dn: 'uid=alice,ou=people,o=siroe.example',
  uid: 'alice',
  mail: 'alice@siroe.example',
  aliases: [],
  forwardTo: [],
  mailHost,
});

describe('store routing', () => {
  test('mailHost by pod name or DNS name, any case, trailing dot, leads to the same store', () => {
    const byPod = routeToStore(entry('siroe-store-0'), stores, 'imap');
    const byDns = routeToStore(entry('SIROE-store-0.siroe-store.mail.svc.cluster.local.'), stores, 'pop3');
    assert.deepEqual(byPod, {
      ok: true,
      store: 'siroe-store-0.siroe-store.mail.svc.cluster.local',
      host: 'siroe-store-0.siroe-store.mail.svc.cluster.local',
      port: 1143,
    });
    assert.equal(byDns.ok && byDns.store, byPod.ok && byPod.store);
    assert.equal(byDns.ok && byDns.port, 1110);
  });

  test('no mailHost, or one naming no store, is not routed', () => {
    assert.deepEqual(routeToStore(entry(), stores, 'imap'), { ok: false, reason: 'no-mailhost' });
    assert.deepEqual(routeToStore(entry('notes.corp.example'), stores, 'imap'), {
      ok: false,
      reason: 'not-a-store',
      mailHost: 'notes.corp.example',
    });
  });

  test('the address that worked last is tried first', () => {
    assert.deepEqual(addressOrder(['10.0.0.1', '10.0.0.2'], '10.0.0.2'), ['10.0.0.2', '10.0.0.1']);
    assert.deepEqual(addressOrder(['10.0.0.1'], '10.9.9.9'), ['10.0.0.1']);
  });
});

describe('login failure replies', () => {
  test('only bad credentials say AUTHENTICATIONFAILED and count as a failure', () => {
    assert.deepEqual(loginReply('bad-credentials'), {
      imapCode: 'AUTHENTICATIONFAILED',
      pop3Code: 'AUTH',
      text: 'Authentication failed',
      smtp: '535 5.7.8 Authentication credentials invalid',
      penalize: true,
    });
    for (const failure of ['directory-down', 'store-down', 'store-refused', 'locked-out'] as const) {
      assert.equal(loginReply(failure).imapCode, 'UNAVAILABLE', failure);
      assert.equal(loginReply(failure).pop3Code, 'SYS/TEMP', failure);
      assert.equal(loginReply(failure).penalize, false, failure);
      // RFC 4954 section 6: a temporary failure is 454, never the 535 of bad credentials.
      assert.match(loginReply(failure).smtp, /^454 4\./, failure);
    }
  });

  test('a failure is answered no sooner than the floor, whatever the directory took, plus the penalty', () => {
    assert.equal(failureDelayMs(5, 400, 0), 395);
    assert.equal(failureDelayMs(390, 400, 0), 10);
    assert.equal(failureDelayMs(900, 400, 0), 0);
    assert.equal(failureDelayMs(100, 400, 2000), 2300);
  });
});

describe('login cache', () => {
  test('answers only the same login with the same password, within the TTL', () => {
    let now = 0;
    const cache = new LoginCache({ ttlMs: 60_000, maxEntries: 10, now: () => now });
    cache.remember('alice', 'right', entry('siroe-store-0'));
    assert.equal(cache.check('alice', 'right')?.uid, 'alice');
    assert.equal(cache.check('alice', 'wrong'), undefined);
    assert.equal(cache.check('alice', 'righ'), undefined);
    assert.equal(cache.check('alice', 'right\0'), undefined);
    assert.equal(cache.check('ALICE', 'right'), undefined);
    cache.remember('bob', 'pässwörd', entry('siroe-store-0'));
    assert.ok(cache.check('bob', 'pässwörd'));
    assert.equal(cache.check('bob', 'passwörd'), undefined);
    now = 60_001;
    assert.equal(cache.check('alice', 'right'), undefined);
  });

  test('a cleared cache sends the next login to the directory', () => {
    const cache = new LoginCache({ ttlMs: 60_000, maxEntries: 10 });
    cache.remember('alice', 'right', entry('siroe-store-0'));
    cache.clear();
    assert.equal(cache.check('alice', 'right'), undefined);
  });

  test('the account is the entry primary address (what LMTP delivers to), else its uid', () => {
    assert.equal(identityOf(entry()), 'alice@siroe.example');
    assert.equal(identityOf({ ...entry(), mail: undefined }), 'alice');
  });
});
