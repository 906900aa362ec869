/**
 * The two wiring halves in one process (`--no-supervise`: the feed goes over the in-process
 * channel): what a serving process counts reaches the primary's `health()` and its metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { RequestContext } from '../pipeline/context.ts';
import type { Generation } from '../runtime/generation.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { wireCanaryInPrimary, wireCanaryInWorker } from './canary-wiring.ts';
import type { RegressionFinding } from './in-node-canary.ts';

const gen = (seq: number, digest: string): Generation => ({ ref: { scope: 's', seq, digest } }) as unknown as Generation;
/** The fields the outcome hook reads. */
const ctxFor = (generation: Generation, status: number, relayed: boolean): RequestContext =>
  ({ generation, status, response: relayed ? { status } : null, startedAt: performance.now() }) as unknown as RequestContext;

describe('canary wiring: worker → primary over the in-process channel', () => {
  it('sums the windows for Reports, counts canary requests and falls back through the wired CanaryFallback', async () => {
    const registry = new Registry();
    const primary = wireCanaryInPrimary({ registry, logger: pino({ level: 'silent' }) });
    const calls: { digest: string; findings: readonly RegressionFinding[] }[] = [];
    primary.useFallback({ fallBack: (digest, findings) => calls.push({ digest, findings }) });
    const store = new GenerationStore();
    const worker = wireCanaryInWorker(store);
    try {
      const n = gen(1, 'sha256:n');
      const c = gen(2, 'sha256:c');
      store.swap(n);
      for (let i = 0; i < 10; i++) worker.outcome(ctxFor(n, 200, true));
      worker.flush();
      assert.deepEqual(
        primary.health().map((w) => [w.generation?.digest, w.requests]),
        [['sha256:n', 10]],
      );
      store.hold(c, { candidateDigest: 'sha256:c', percent: 5, thresholds: { minRequests: 100, maxErrorRatio: 0.02, maxErrorIncrease: 0.005, maxP99Factor: 1.5, minP99IncreaseMs: 20 } });
      worker.flush(); // the candidate is held from here on
      for (let i = 0; i < 2_000; i++) worker.outcome(ctxFor(n, i % 100 === 0 ? 503 : 200, true));
      for (let i = 0; i < 150; i++) worker.outcome(ctxFor(c, 502, false));
      worker.flush();
      const windows = primary.health();
      const byDigest = new Map(windows.map((w) => [w.generation?.digest, w]));
      assert.equal(byDigest.get('sha256:n')?.requests, 2_000);
      assert.equal(byDigest.get('sha256:n')?.upstream5xx, 20);
      assert.equal(byDigest.get('sha256:c')?.local5xx, 150);
      assert.equal(primary.monitor.running, true);
      assert.equal(primary.monitor.check()?.kind, 'fall-back');
      assert.equal(calls.length, 1);
      const text = await registry.metrics();
      assert.match(text, /spooky_canary_requests_total\{generation="candidate"\} 150/);
      assert.match(text, /spooky_canary_requests_total\{generation="serving"\} 2000/);
      assert.match(text, /spooky_canary_fallbacks_total 1/);
    } finally {
      worker.stop();
      primary.stop();
    }
  });
});

describe('canary wiring: useFallback', () => {
  it('takes an object with fallBack, and leaves one without unwired (decisions only logged)', () => {
    const log = capturedLogger('info');
    const primary = wireCanaryInPrimary({ registry: new Registry(), logger: log.logger });
    const store = new GenerationStore();
    const worker = wireCanaryInWorker(store);
    try {
      primary.useFallback({ start() {} }); // a control client without fallBack
      const n = gen(1, 'sha256:n');
      const c = gen(2, 'sha256:c');
      store.swap(n);
      store.hold(c, { candidateDigest: 'sha256:c', percent: 5, thresholds: { minRequests: 10, maxErrorRatio: 0.02, maxErrorIncrease: 0.005, maxP99Factor: 1.5, minP99IncreaseMs: 20 } });
      worker.flush();
      for (let i = 0; i < 20; i++) worker.outcome(ctxFor(n, 200, true));
      for (let i = 0; i < 20; i++) worker.outcome(ctxFor(c, 502, false));
      worker.flush();
      assert.equal(primary.monitor.check()?.kind, 'fall-back', 'judged and counted without anyone to fall back');
      assert.equal(log.lines.find((l) => l['msg'] === 'canary regressed: falling back to the serving generation')?.['wired'], false);
    } finally {
      worker.stop();
      primary.stop();
    }
  });
});
