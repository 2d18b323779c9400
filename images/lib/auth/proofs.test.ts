import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressSet } from '../contract/cidr.ts';
import { checkStoreLogin, checkXclientProof, secretsEqual, XCLIENT_PROXY_IDENTITY } from './proofs.ts';

describe('secretsEqual', () => {
  it('is true only for the same secret, whatever the lengths', () => {
    assert.equal(secretsEqual('s3cret', 's3cret'), true);
    assert.equal(secretsEqual('s3cre', 's3cret'), false);
    assert.equal(secretsEqual('s3cret!', 's3cret'), false);
    assert.equal(secretsEqual('S3cret', 's3cret'), false);
  });

  it('never matches an empty expected secret', () => {
    assert.equal(secretsEqual('', ''), false);
  });
});

describe('checkXclientProof', () => {
  const trust = { secret: 'proxy-secret', peers: new AddressSet(['10.244.0.0/16']) };
  const good = {
    login: XCLIENT_PROXY_IDENTITY,
    password: 'proxy-secret',
    client: '10.244.1.5',
    secure: true,
  };

  it('accepts the proxy identity with the secret, over TLS, from a proxy network', () => {
    assert.deepEqual(checkXclientProof(good, trust), { ok: true });
  });

  const cases: [string, Partial<typeof good> & { authzid?: string }, string | undefined][] = [
    ['a wrong secret', { password: 'guess' }, 'wrong secret'],
    ['another network', { client: '203.0.113.9' }, 'not from a proxy network'],
    ['plaintext', { secure: false }, 'the proxy must prove itself over TLS'],
    ['another identity', { login: 'alice' }, 'not the proxy identity'],
    ['an authzid', { authzid: 'alice' }, 'the proxy may not name a user at AUTH'],
  ];
  for (const [what, change, reason] of cases) {
    it(`refuses ${what}`, () => {
      assert.deepEqual(checkXclientProof({ ...good, ...change }, trust), { ok: false, reason });
    });
  }

  it('refuses everyone where no proxy is trusted', () => {
    assert.equal(checkXclientProof(good, undefined).ok, false);
  });
});

describe('checkStoreLogin', () => {
  const trust = { proxyUser: 'mmp', secret: 'store-secret' };

  it('lets the MMP in as the user it names', () => {
    assert.deepEqual(checkStoreLogin({ authzid: 'alice', authcid: 'mmp', password: 'store-secret' }, trust), {
      ok: true,
      user: 'alice',
    });
  });

  it('refuses a user logging in directly, a wrong secret, and the proxy acting as itself', () => {
    assert.equal(
      checkStoreLogin({ authzid: 'alice', authcid: 'alice', password: 'store-secret' }, trust).ok,
      false,
    );
    assert.equal(checkStoreLogin({ authzid: 'alice', authcid: 'mmp', password: 'nope' }, trust).ok, false);
    assert.equal(checkStoreLogin({ authzid: '', authcid: 'mmp', password: 'store-secret' }, trust).ok, false);
    assert.equal(
      checkStoreLogin({ authzid: 'mmp', authcid: 'mmp', password: 'store-secret' }, trust).ok,
      false,
    );
  });
});
