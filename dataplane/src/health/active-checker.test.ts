import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HealthCheck } from '@spooky/config';
import { ActiveChecker, probeDelay, startDelay } from './active-checker.ts';
import type { HealthVerdict } from './health-state.ts';
import { FakeProber } from './testing/fake-prober.ts';
import { ManualScheduler } from './testing/manual-scheduler.ts';

const CHECK: HealthCheck = { path: '/healthz', interval: 1000, timeout_ms: 100, failure_threshold: 3, success_threshold: 2, cooldown_ms: 5000 };

function setup(random = 0.25) {
  const scheduler = new ManualScheduler();
  const prober = new FakeProber();
  const results: Array<[HealthVerdict, string]> = [];
  const checker = new ActiveChecker({ check: CHECK, prober, scheduler, random: () => random, onResult: (v, d) => results.push([v, d]) });
  return { scheduler, prober, results, checker };
}

describe('probe schedule', () => {
  it('backs off interval × 2^min(failures, 2)', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((f) => probeDelay(1000, f)), [1000, 2000, 4000, 4000, 4000]);
  });
  it('jitters the start within [0, interval)', () => {
    assert.equal(startDelay(1000, () => 0), 0);
    assert.equal(startDelay(1000, () => 0.999), 999);
  });
});

describe('ActiveChecker', () => {
  it('probes GET path with timeout_ms after the start jitter, then every interval', async () => {
    const { scheduler, prober, results, checker } = setup(0.25);
    checker.start();
    assert.deepEqual(scheduler.pendingDelays(), [250]);
    await scheduler.advance(249);
    assert.equal(prober.calls.length, 0);
    await scheduler.advance(1);
    assert.equal(prober.calls.length, 1);
    assert.equal(prober.calls[0]?.path, '/healthz');
    assert.equal(prober.calls[0]?.timeoutMs, 100);
    assert.deepEqual(results, [['success', 'status 200']]);
    await scheduler.advance(3000);
    assert.equal(prober.calls.length, 4);
    checker.stop();
  });

  it('backs off while failing and returns to the interval after a success', async () => {
    const { scheduler, prober, results, checker } = setup(0);
    prober.result = { kind: 'error', code: 'ECONNREFUSED' };
    checker.start();
    await scheduler.advance(0); // first probe at t=0
    assert.equal(checker.failures, 1);
    assert.deepEqual(scheduler.pendingDelays(), [2000]);
    await scheduler.advance(2000);
    assert.deepEqual(scheduler.pendingDelays(), [4000]);
    await scheduler.advance(4000);
    assert.deepEqual(scheduler.pendingDelays(), [4000], 'capped at 2^2');
    prober.result = { kind: 'response', status: 404 };
    await scheduler.advance(4000);
    assert.equal(checker.failures, 3, 'neutral leaves the failure count');
    prober.result = { kind: 'response', status: 200 };
    await scheduler.advance(4000);
    assert.equal(checker.failures, 0);
    assert.deepEqual(scheduler.pendingDelays(), [1000]);
    assert.deepEqual(
      results.map(([v]) => v),
      ['failure', 'failure', 'failure', 'neutral', 'success'],
    );
    checker.stop();
  });

  it('stop() cancels the timer and drops the in-flight result', async () => {
    const { scheduler, prober, results, checker } = setup(0);
    let release: (() => void) | undefined;
    prober.probe = (request) => {
      prober.calls.push(request);
      return new Promise((resolve) => {
        release = () => resolve({ kind: 'response', status: 200 });
      });
    };
    checker.start();
    await scheduler.advance(0);
    assert.equal(prober.calls.length, 1);
    checker.stop();
    assert.equal(prober.calls[0]?.signal.aborted, true, 'the in-flight probe is aborted');
    release?.();
    await scheduler.advance(10_000);
    assert.deepEqual(results, []);
    assert.equal(scheduler.pendingCount(), 0);
  });
});
