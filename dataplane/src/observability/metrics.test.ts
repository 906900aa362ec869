import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportInternalError } from '../barrier/internal-error.ts';
import { publishMirror } from '../mirroring/mirror-events.ts';
import { publishRequestEnd } from '../pipeline/events.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { startInternalErrorLog } from './internal-error-log.ts';
import { createMetrics } from './metrics.ts';

describe('data-plane metrics', () => {
  it('count requests and mirror outcomes from the pipeline events', async () => {
    const m = createMetrics({ defaultMetrics: false });
    try {
      publishRequestEnd({
        requestId: 'r1', traceId: null, protocol: 'h3', method: 'GET', host: 'a.example', path: '/', generationSeq: 3,
        route: 'web', upstream: 'web', backend: 'w1', status: 503, outcome: 'upstream:no_healthy_backends', attempts: 1,
        durationMs: 12, upstreamHeadersMs: null, bytesIn: 0, bytesOut: 20,
      });
      publishMirror({ requestId: 'r1', route: 'web', upstream: 'shadow', outcome: 'skipped:busy', status: null });
      publishMirror({ requestId: 'r2', route: 'web', upstream: 'shadow', outcome: 'ok', status: 200 });
      const text = await m.registry.metrics();
      assert.match(text, /spooky_requests_total\{route="web",upstream="web",status_class="5xx",outcome="upstream:no_healthy_backends"\} 1/);
      assert.match(text, /spooky_mirror_requests_total\{route="web",mirror="shadow",outcome="skipped:busy"\} 1/);
      assert.match(text, /spooky_mirror_requests_total\{route="web",mirror="shadow",outcome="ok"\} 1/);
      assert.equal(m.counters().requestsTotal, 1);
    } finally {
      m.close();
    }
  });

  it('label requests by route and serving upstream, and sum them per upstream in the Rust family', async () => {
    const m = createMetrics({ defaultMetrics: false });
    try {
      const end = (route: string | null, upstream: string | null, status: number, outcome: string) =>
        publishRequestEnd({
          requestId: 'r', traceId: null, protocol: 'h3', method: 'GET', host: null, path: '/', generationSeq: 1,
          route, upstream, backend: null, status, outcome, attempts: 1, durationMs: 2, upstreamHeadersMs: null, bytesIn: 0, bytesOut: 0,
        });
      end('web', 'web', 200, 'ok');
      end('web', 'web-canary', 200, 'ok');
      end('api', 'web', 200, 'ok');
      end(null, null, 400, 'rejected:malformed_request');
      const text = await m.registry.metrics();
      assert.match(text, /spooky_requests_total\{route="web",upstream="web-canary",status_class="2xx",outcome="ok"\} 1/);
      assert.match(text, /spooky_requests_total\{route="none",upstream="none",status_class="4xx",outcome="rejected:malformed_request"\} 1/);
      assert.match(text, /spooky_upstream_requests_total\{upstream="web",status_class="2xx",outcome="ok"\} 2/);
      assert.match(text, /spooky_request_duration_seconds_count\{route="api",upstream="web"\} 1/);
      // A second scrape adds nothing (the pending counts were flushed into both families once).
      assert.match(await m.registry.metrics(), /spooky_upstream_requests_total\{upstream="web",status_class="2xx",outcome="ok"\} 2/);
    } finally {
      m.close();
    }
  });

  it('report the served generation and how long applies took', async () => {
    const m = createMetrics({ defaultMetrics: false });
    try {
      m.applied({ scope: 'default', seq: 7, digest: 'sha256:ab' }, 0.02);
      m.rejected(0.003);
      const text = await m.registry.metrics();
      assert.match(text, /spooky_runtime_active_generation 7/);
      assert.match(text, /spooky_generation_info\{seq="7",digest="sha256:ab"\} 1/);
      assert.match(text, /spooky_config_apply_duration_seconds_count\{result="ok"\} 1/);
      assert.match(text, /spooky_config_apply_duration_seconds_bucket\{le="0.025",result="ok"\} 1/);
      assert.match(text, /spooky_config_apply_duration_seconds_bucket\{le="0.005",result="rejected"\} 1/);
    } finally {
      m.close();
    }
  });

  it('count and log crash-barrier reports once each, by where', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const { logger, lines } = capturedLogger('info');
    const stop = startInternalErrorLog(logger);
    try {
      reportInternalError('request_body', new Error('boom'), 'req-1');
      reportInternalError('upstream_pool', new Error('pool'));
      const text = await m.registry.metrics();
      assert.match(text, /spooky_internal_errors_total\{where="request_body"\} 1/);
      assert.match(text, /spooky_internal_errors_total\{where="upstream_pool"\} 1/);
      const logged = lines.filter((l) => l.msg === 'internal error');
      assert.equal(logged.length, 2);
      assert.equal(logged[0]?.['requestId'], 'req-1');
      assert.equal(logged[0]?.['where'], 'request_body');
    } finally {
      stop();
      m.close();
    }
  });
});
