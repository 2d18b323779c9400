import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSaslPlain, splitMasterUser } from './sasl-plain.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('decodeSaslPlain', () => {
  it('reads authzid, authcid and password', () =>
    assert.deepEqual(decodeSaslPlain(b64('alice@siroe.example\0mmp\0s3cret')), {
      authzid: 'alice@siroe.example',
      authcid: 'mmp',
      password: 's3cret',
    }));
  for (const [name, input] of [
    ['two fields', b64('mmp\0s3cret')],
    ['four fields', b64('a\0b\0c\0d')],
    ['an empty password', b64('a\0mmp\0')],
    ['not base64', 'not base64!'],
    ['bad padding', 'YWJj='],
  ] as const)
    it(`refuses ${name}`, () => assert.equal(decodeSaslPlain(input), undefined));
});

describe('splitMasterUser', () => {
  it('splits user*proxy at the last star', () =>
    assert.deepEqual(splitMasterUser('a*b@x*mmp'), { authzid: 'a*b@x', authcid: 'mmp' }));
  it('leaves a name without a star as the authcid alone', () =>
    assert.deepEqual(splitMasterUser('mmp'), { authzid: '', authcid: 'mmp' }));
});
