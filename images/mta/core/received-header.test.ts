import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { receivedHeader } from './received-header.ts';

const base = {
  helo: 'client.example',
  clientAddress: '192.0.2.1',
  by: 'mx.example.test',
  protocol: 'ESMTPS',
  queueId: 'ABC123',
  recipients: ['alice@example.test'],
  date: new Date(Date.UTC(2025, 6, 1, 10, 0, 0)),
};

describe('receivedHeader', () => {
  it('writes the RFC 5321 trace fields, folded with CRLF TAB', () => {
    assert.equal(
      receivedHeader({ ...base, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } }),
      'Received: from client.example ([192.0.2.1])\r\n' +
        '\tby mx.example.test (mtopo) with ESMTPS id ABC123\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n' +
        '\tfor <alice@example.test>; Tue, 01 Jul 2025 10:00:00 +0000\r\n',
    );
  });

  it('names no recipients when there are several', () => {
    const header = receivedHeader({ ...base, recipients: ['a@example.test', 'b@example.test'] });
    assert.doesNotMatch(header, /for </);
    assert.match(header, /id ABC123;\r\n\tTue, 01 Jul 2025/);
  });

  it('writes IPv6 clients as IPv6 literals', () => {
    assert.match(receivedHeader({ ...base, clientAddress: '2001:db8::1' }), /\[IPv6:2001:db8::1\]/);
  });

  it('cannot be broken by a HELO with line breaks or parentheses', () => {
    const header = receivedHeader({ ...base, helo: 'evil\r\nX-Injected: yes (x)' });
    assert.equal(header.split('\r\n').filter((l) => l.length > 0).length, 3);
    assert.doesNotMatch(header, /\r\nX-Injected/);
    assert.match(header, /^Received: from evil\?\?X-Injected:\?yes\?\?x\? \(/);
  });
});
