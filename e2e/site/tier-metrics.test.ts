import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumSamples } from './tier-metrics.ts';

const EXPOSITION = `# HELP mtopo_mta_recipients_total Recipients by delivery outcome.
# TYPE mtopo_mta_recipients_total counter
mtopo_mta_recipients_total{role="inbound",destination="store",outcome="delivered"} 7
mtopo_mta_recipients_total{role="inbound",destination="store",outcome="bounced"} 2
mtopo_mta_recipients_total{role="inbound",destination="gateway",outcome="bounced"} 1
mtopo_mta_recipients_total_created{role="inbound",destination="store",outcome="bounced"} 1700000000
mtopo_mta_messages_received_total{role="inbound"} 9
mtopo_mta_queue_messages 3
`;

test('sums the samples of one metric whose labels match, and no other metric', () => {
  assert.equal(sumSamples(EXPOSITION, 'mtopo_mta_recipients_total', { outcome: 'bounced' }), 3);
  assert.equal(sumSamples(EXPOSITION, 'mtopo_mta_recipients_total'), 10);
  assert.equal(sumSamples(EXPOSITION, 'mtopo_mta_messages_received_total', { role: 'inbound' }), 9);
  assert.equal(sumSamples(EXPOSITION, 'mtopo_mta_queue_messages'), 3);
});

test('a metric or label value that is absent sums to 0', () => {
  assert.equal(sumSamples(EXPOSITION, 'mtopo_mta_bounces_total'), 0);
  assert.equal(sumSamples(EXPOSITION, 'mtopo_mta_recipients_total', { outcome: 'deferred' }), 0);
  assert.equal(sumSamples('', 'mtopo_mta_queue_messages'), 0);
});
