import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mismatches, type ProbeOutcome } from '../firewall/run-probes.ts';
import { searchUids } from './mail-clients.ts';
import { haproxyConfig } from './node-haproxy.ts';

describe("the site's helpers", () => {
  it('writes one frontend and one PROXY v2 backend per balanced port', () => {
    const config = haproxyConfig('10.250.1.1', [
      { name: 'edge', port: 25, backend: { host: '10.251.0.225', port: 25 } },
      { name: 'imap', port: 143, backend: { host: '10.252.0.7', port: 143 } },
    ]);
    assert.match(config, /frontend edge\n {2}bind 10\.250\.1\.1:25\n/);
    assert.match(config, /server edge 10\.251\.0\.225:25 send-proxy-v2\n/);
    assert.match(config, /server imap 10\.252\.0\.7:143 send-proxy-v2\n/);
    assert.match(config, /mode tcp/);
  });

  it('reads the UIDs of a UID SEARCH answer, and none from an empty one', () => {
    assert.deepEqual(searchUids('* SEARCH 3 7\r\n'), [3, 7]);
    assert.deepEqual(searchUids('* SEARCH\r\n'), []);
    assert.deepEqual(searchUids('* OK nothing\r\n'), []);
  });

  it('reports a probe whose outcome the model does not expect, in both directions', () => {
    const probe = (expect: 'open' | 'closed') => ({
      from: { kind: 'tier', name: 'edge-mta' } as const,
      to: { kind: 'zone', name: 'directory' } as const,
      port: 636,
      label: 'ldaps',
      expect,
      purpose: '',
    });
    const outcomes: ProbeOutcome[] = [
      { probe: probe('closed'), target: '10.20.0.5:636', outcome: 'refused', detail: 'ECONNREFUSED' },
      { probe: probe('closed'), target: '10.20.0.5:636', outcome: 'timeout', detail: 'no answer' },
      { probe: probe('closed'), target: '10.20.0.5:636', outcome: 'open', detail: '' },
      { probe: probe('open'), target: '10.20.0.5:636', outcome: 'refused', detail: 'ECONNREFUSED' },
    ];
    assert.deepEqual(mismatches(outcomes), [
      'edge-mta -> (directory):636 (ldaps) at 10.20.0.5:636: expected closed, got open',
      'edge-mta -> (directory):636 (ldaps) at 10.20.0.5:636: expected open, got refused (ECONNREFUSED)',
    ]);
  });
});
