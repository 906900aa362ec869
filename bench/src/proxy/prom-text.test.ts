import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byLabel, parseSamples, sampleValue } from './prom-text.ts';

const TEXT = `# HELP spooky_worker_requests_total Requests finished
# TYPE spooky_worker_requests_total counter
spooky_worker_requests_total{worker="0"} 120
spooky_worker_requests_total{worker="1"} 80
spooky_process_resident_memory_bytes 1.5e8
spooky_event_loop_delay_seconds{quantile="0.99"} 0.012
`;

describe('prometheus text samples', () => {
  it('reads values by name and label set, and a family by one label', () => {
    const s = parseSamples(TEXT);
    assert.equal(s.length, 4);
    assert.equal(sampleValue(s, 'spooky_process_resident_memory_bytes'), 1.5e8);
    assert.equal(sampleValue(s, 'spooky_event_loop_delay_seconds', '{quantile="0.99"}'), 0.012);
    assert.equal(sampleValue(s, 'absent'), null);
    assert.deepEqual([...byLabel(s, 'spooky_worker_requests_total', 'worker')], [['0', 120], ['1', 80]]);
  });
});
