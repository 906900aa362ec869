/**
 * spooky_hedges_total from RequestEndEvents: `sent` once per hedge sent plus its result, a
 * refusal alone; a hedge is a try but not a retry (spooky_retries_total).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishRequestEnd, type RequestEndEvent } from '../pipeline/events.ts';
import { createMetrics } from './metrics.ts';

const base: RequestEndEvent = {
  requestId: 'r',
  traceId: null,
  protocol: 'h3',
  method: 'GET',
  host: 'a.example',
  path: '/',
  generationSeq: 1,
  route: 'web',
  upstream: 'web',
  backend: 'w1',
  status: 200,
  outcome: 'ok',
  attempts: 1,
  durationMs: 5,
  upstreamHeadersMs: 4,
  bytesIn: 0,
  bytesOut: 2,
};

describe('spooky_hedges_total', () => {
  it('counts sent hedges with their result, refusals alone, and keeps hedges out of retried', async () => {
    const m = createMetrics({ defaultMetrics: false });
    try {
      publishRequestEnd({ ...base, attempts: 2, hedged: true, hedge: 'won' });
      publishRequestEnd({ ...base, attempts: 2, hedged: true, hedge: 'lost' });
      publishRequestEnd({ ...base, attempts: 3, hedged: true, hedge: 'failed' }); // both failed, then one retry
      publishRequestEnd({ ...base, hedged: false, hedge: 'refused_budget' });
      publishRequestEnd({ ...base, attempts: 2, hedged: false, hedge: null }); // a plain retry
      const text = await m.registry.metrics();
      assert.match(text, /spooky_hedges_total\{upstream="web",result="sent"\} 3/);
      assert.match(text, /spooky_hedges_total\{upstream="web",result="won"\} 1/);
      assert.match(text, /spooky_hedges_total\{upstream="web",result="lost"\} 1/);
      assert.match(text, /spooky_hedges_total\{upstream="web",result="failed"\} 1/);
      assert.match(text, /spooky_hedges_total\{upstream="web",result="refused_budget"\} 1/);
      assert.match(text, /spooky_retries_total 2/);
    } finally {
      m.close();
    }
  });
});
