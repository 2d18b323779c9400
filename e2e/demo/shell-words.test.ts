import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { shellLine, shellWord } from './shell-words.ts';

describe('shellWord', () => {
  it('leaves plain words as they are', () => {
    assert.equal(shellWord('--server'), '--server');
    assert.equal(shellWord('alice@siroe.example'), 'alice@siroe.example');
    assert.equal(shellWord('--net=/run/netns/mtopo-e2e-outside'), '--net=/run/netns/mtopo-e2e-outside');
  });

  it('quotes what a shell would split or expand, and the empty word', () => {
    assert.equal(shellWord('Subject: hello'), "'Subject: hello'");
    assert.equal(shellWord('$HOME'), "'$HOME'");
    assert.equal(shellWord(''), "''");
    assert.equal(shellWord("it's"), `'it'\\''s'`);
  });

  it('gives back the same words when a real shell reads the line', () => {
    const words = ['a b', "it's", '$x', '*', 'UID SEARCH SUBJECT "demo"', 'imap://h:143/INBOX;UID=1', ''];
    const line = shellLine('printf', ['%s\\n', ...words]);
    const out = execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
    assert.deepEqual(out.split('\n').slice(0, -1), words);
  });
});
