import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildBounce, headerSection } from './dsn.ts';

const original = Buffer.from('Subject: hello\r\nMessage-ID: <m1@example.test>\r\n\r\nsecret body\r\n');
const input = {
  reportingMta: 'mx.example.test',
  queueId: 'Q1',
  sender: 'sender@elsewhere.example',
  arrivalDate: new Date(Date.UTC(2025, 0, 1)),
  now: new Date(Date.UTC(2025, 0, 6)),
  recipients: [
    {
      address: 'gone@example.test',
      status: '5.1.1',
      diagnostic: '550 5.1.1 No such user\r\nhere',
      remoteMta: 'store-a',
    },
    { address: 'slow@remote.example', status: '4.4.7', diagnostic: '421 4.4.2 timeout' },
  ],
  original,
  boundary: 'BOUNDARY',
};

describe('buildBounce', () => {
  const text = buildBounce(input).toString('utf8');
  const parts = text.split('--BOUNDARY');

  it('is a multipart/report of type delivery-status from the mailer daemon to the sender (RFC 6522)', () => {
    assert.match(text, /^From: Mail Delivery System <MAILER-DAEMON@mx\.example\.test>\r\n/);
    assert.match(text, /\r\nTo: <sender@elsewhere\.example>\r\n/);
    assert.match(text, /\r\nAuto-Submitted: auto-replied\r\n/);
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status; boundary="BOUNDARY"/);
    assert.equal(parts.length, 5, 'preamble, three parts, closing delimiter');
    assert.match(parts[4] ?? '', /^--\r\n$/);
  });

  it('has a message/delivery-status part with per-message and per-recipient fields (RFC 3464)', () => {
    const report = parts[2] ?? '';
    assert.match(
      report,
      /Content-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; mx\.example\.test\r\n/,
    );
    assert.match(report, /Arrival-Date: Wed, 01 Jan 2025 00:00:00 \+0000/);
    assert.match(
      report,
      /\r\n\r\nFinal-Recipient: rfc822; gone@example\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; store-a\r\nDiagnostic-Code: smtp; 550 5\.1\.1 No such user here\r\n/,
    );
    assert.match(
      report,
      /Final-Recipient: rfc822; slow@remote\.example\r\nAction: failed\r\nStatus: 4\.4\.7\r\n/,
    );
  });

  it('returns the original headers, not the body', () => {
    const headers = parts[3] ?? '';
    assert.match(
      headers,
      /Content-Type: text\/rfc822-headers\r\n\r\nSubject: hello\r\nMessage-ID: <m1@example\.test>\r\n/,
    );
    assert.doesNotMatch(text, /secret body/);
  });

  it('says in words that the time ran out when it did', () => {
    assert.match(parts[1] ?? '', /in the time it was kept in the queue/);
  });

  it('takes the header section up to the first empty line', () => {
    assert.equal(headerSection(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody')).toString(), 'A: 1\r\nB: 2\r\n');
  });
});
