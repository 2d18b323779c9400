import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLdapUrl } from './ldap-url.ts';

describe('parseLdapUrl', () => {
  it('gives each scheme its default port (RFC 4516 section 2)', () => {
    assert.deepEqual(parseLdapUrl('ldap://ldap.corp.example'), {
      scheme: 'ldap',
      host: 'ldap.corp.example',
      port: 389,
      tls: false,
    });
    assert.equal(parseLdapUrl('ldaps://ldap-1.corp.example/')?.port, 636);
  });

  it('reads an explicit port and a bracketed IPv6 host', () => {
    assert.equal(parseLdapUrl('ldap://127.0.0.1:3890')?.port, 3890);
    assert.equal(parseLdapUrl('ldaps://[2001:db8::5]:1636')?.host, '2001:db8::5');
  });

  it('refuses other schemes, search parts, bad ports and empty hosts', () => {
    for (const bad of [
      'http://ldap.example',
      'ldap://ldap.example/o=siroe?mail',
      'ldap://ldap.example:70000',
      'ldap://',
      'ldap://-bad.example',
    ]) {
      assert.equal(parseLdapUrl(bad), undefined, bad);
    }
  });
});
