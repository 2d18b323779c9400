import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loginFilter, recipientFilter } from './filters.ts';

const attributes = {
  mail: 'mail',
  aliases: 'mailAlternateAddress',
  forwardTo: 'fwd',
  mailHost: 'mailHost',
  uid: 'uid',
};

describe('directory filters', () => {
  it('looks a recipient up by primary address and by alias', () => {
    assert.equal(
      recipientFilter(attributes, 'alice@example.test').toString(),
      '(|(mail=alice@example.test)(mailAlternateAddress=alice@example.test))',
    );
  });

  it('escapes the characters that would change a filter (RFC 4515 section 3)', () => {
    const filter = recipientFilter(attributes, '*)(uid=*\\@example.test').toString();
    assert.equal(
      filter,
      '(|(mail=\\2a\\29\\28uid=\\2a\\5c@example.test)(mailAlternateAddress=\\2a\\29\\28uid=\\2a\\5c@example.test))',
    );
  });

  it('escapes a login the same way', () => {
    assert.equal(loginFilter(attributes, 'a*').toString(), '(|(uid=a\\2a)(mail=a\\2a))');
  });
});
