import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenerationHealth } from '@spooky/proto';
import pino from 'pino';
import { LATENCY_BUCKETS, latencyBucket } from '../observability/generation-health.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { CanaryMonitor, type RepeatTimer } from './canary-monitor.ts';
import type { CanaryFallback } from './candidate-ports.ts';
import type { HealthFeedMessage, HeldReport } from './health-feed.ts';
import type { CanaryThresholds, RegressionFinding } from './in-node-canary.ts';

const T: CanaryThresholds = { minRequests: 100, maxErrorRatio: 0.02, maxErrorIncrease: 0.005, maxP99Factor: 1.5, minP99IncreaseMs: 20 };
const N = 'sha256:nnnn';
const C = 'sha256:cccc';

const win = (digest: string, from: number, requests: number, errors = 0, latencyMs = 4): GenerationHealth => {
  const latencyBucketCounts = new Array<number>(LATENCY_BUCKETS).fill(0);
  latencyBucketCounts[latencyBucket(latencyMs)] = requests;
  return { generation: { scope: 's', seq: 1, digest }, fromUnixMs: from, toUnixMs: from + 1_000, requests, local5xx: errors, upstream5xx: 0, latencyBucketCounts };
};
const held = (over: Partial<HeldReport> = {}): HeldReport => ({ candidateDigest: C, percent: 5, thresholds: T, servingDigest: N, sinceMs: 10_000, ...over });
const heldWithoutThresholds = (): HeldReport => ({ candidateDigest: C, percent: 5, servingDigest: N, sinceMs: 10_000 });
const msg = (h: HeldReport | null, windows: GenerationHealth[]): HealthFeedMessage => ({ kind: 'generation-health', held: h, windows });

/** A manual timer: `fire()` runs the armed callback as the interval would. */
function manualTimer() {
  const armed: { fn: () => void; everyMs: number; cancelled: boolean }[] = [];
  const timer: RepeatTimer = (fn, everyMs) => {
    const entry = { fn, everyMs, cancelled: false };
    armed.push(entry);
    return { cancel: () => (entry.cancelled = true) };
  };
  return {
    timer,
    live: () => armed.filter((a) => !a.cancelled),
    fire: () => {
      for (const a of armed.filter((x) => !x.cancelled)) a.fn();
    },
  };
}

function setup() {
  const calls: { digest: string; findings: readonly RegressionFinding[] }[] = [];
  const fake: CanaryFallback = { fallBack: (digest, findings) => calls.push({ digest, findings }) };
  const counted = { serving: 0, candidate: 0, fallbacks: 0 };
  const clock = manualTimer();
  const log = capturedLogger('info');
  const monitor = new CanaryMonitor({
    logger: log.logger,
    fallback: () => fake,
    metrics: { requests: (g, n) => (counted[g] += n), fellBack: () => counted.fallbacks++ },
    checkEveryMs: 2_000,
    timer: clock.timer,
  });
  return { monitor, calls, counted, clock, log };
}

describe('CanaryMonitor: the local safety net over the node', () => {
  it('no candidate: no timer, nothing to judge', () => {
    const { monitor, clock } = setup();
    monitor.observe('w1', msg(null, [win(N, 0, 500)]));
    assert.equal(monitor.running, false);
    assert.equal(clock.live().length, 0);
    assert.equal(monitor.check(), null);
  });

  it('a held candidate arms one timer at the check period; no thresholds: no timer and no check', () => {
    const a = setup();
    a.monitor.observe('w1', msg(held(), []));
    assert.equal(a.monitor.running, true);
    assert.deepEqual(
      a.clock.live().map((t) => t.everyMs),
      [2_000],
    );
    const b = setup();
    b.monitor.observe('w1', msg(heldWithoutThresholds(), [win(C, 10_000, 500, 500)]));
    assert.equal(b.monitor.running, false);
    assert.equal(b.monitor.check(), null);
  });

  it('too few requests: keep without evidence; healthy with evidence: keep', () => {
    const { monitor, calls } = setup();
    monitor.observe('w1', msg(held(), [win(C, 10_000, 50, 5), win(N, 10_000, 5_000)]));
    assert.deepEqual(monitor.check(), { kind: 'keep', evidence: false });
    monitor.observe('w1', msg(held(), [win(C, 11_000, 5_000), win(N, 11_000, 50_000)]));
    assert.deepEqual(monitor.check(), { kind: 'keep', evidence: true }, '5 errors in 5 050 is 0.1 %: under the ceiling and the increase');
    assert.equal(calls.length, 0);
  });

  it('a regression falls back exactly once, with the numbers, and disarms the timer', () => {
    const { monitor, calls, counted, clock, log } = setup();
    monitor.observe('w1', msg(held(), [win(C, 10_000, 200, 40), win(N, 10_000, 4_000)]));
    clock.fire();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.digest, C);
    assert.deepEqual(
      calls[0]?.findings.map((f) => f.rule),
      ['error_ratio', 'error_increase'],
    );
    assert.equal(calls[0]?.findings[0]?.observed, 0.2);
    assert.equal(monitor.running, false);
    assert.equal(counted.fallbacks, 1);
    assert.equal(counted.candidate, 200);
    assert.equal(counted.serving, 4_000);
    const warn = log.lines.filter((l) => l.msg === 'canary regressed: falling back to the serving generation');
    assert.equal(warn.length, 1);
    assert.equal(warn[0]?.level, 40);
    // More bad windows, more checks, the candidate reported again later: no second call.
    monitor.observe('w1', msg(held(), [win(C, 11_000, 500, 500)]));
    clock.fire();
    assert.equal(monitor.check(), null);
    monitor.observe('w1', msg(null, []));
    monitor.observe('w1', msg(held(), [win(C, 20_000, 500, 500), win(N, 20_000, 5_000)]));
    assert.equal(monitor.check(), null);
    assert.equal(calls.length, 1);
  });

  it('a latency regression (p99 factor with the noise floor) falls back', () => {
    const { monitor, calls } = setup();
    monitor.observe('w1', msg(held(), [win(C, 10_000, 1_000, 0, 400), win(N, 10_000, 4_000, 0, 40)]));
    monitor.check();
    assert.deepEqual(
      calls[0]?.findings.map((f) => f.rule),
      ['p99_factor'],
    );
  });

  it('the baseline is the serving generation since the candidate was held; every candidate window counts', () => {
    const { monitor, calls, counted } = setup();
    // Serving errors before the hold (from < sinceMs) would mask the candidate's increase.
    monitor.observe('w1', msg(held(), [win(N, 9_000, 4_000, 400), win(C, 9_500, 300, 9), win(N, 10_000, 4_000, 0)]));
    assert.equal(counted.serving, 4_000);
    assert.equal(counted.candidate, 300);
    const d = monitor.check();
    assert.equal(d?.kind, 'fall-back');
    assert.deepEqual(
      calls[0]?.findings.map((f) => f.rule),
      ['error_ratio', 'error_increase'],
    );
  });

  it('sums every process of the node; the candidate stays held while one process holds it', () => {
    const { monitor, calls } = setup();
    monitor.observe('w1', msg(held(), [win(C, 10_000, 60, 3), win(N, 10_000, 2_000)]));
    monitor.observe('w2', msg(held(), [win(C, 10_000, 60, 3), win(N, 10_000, 2_000)]));
    assert.deepEqual(
      calls.length,
      0,
      'each alone is under min_requests',
    );
    monitor.observe('w2', msg(null, []));
    assert.equal(monitor.running, true, 'w1 still holds it');
    const d = monitor.check();
    assert.equal(d?.kind, 'fall-back', '6 errors in 120 = 5 %');
    assert.equal(calls.length, 1);
  });

  it('when no process holds the candidate any more (promoted or dropped) the sums are discarded', () => {
    const { monitor, calls } = setup();
    monitor.observe('w1', msg(held(), [win(C, 10_000, 90, 9), win(N, 10_000, 2_000)]));
    monitor.observe('w1', msg(null, []));
    assert.equal(monitor.running, false);
    assert.equal(monitor.check(), null);
    // Another candidate starts from zero.
    monitor.observe('w1', msg(held({ candidateDigest: 'sha256:other', sinceMs: 30_000 }), [win('sha256:other', 30_000, 90, 0)]));
    assert.deepEqual(monitor.check(), { kind: 'keep', evidence: false });
    assert.equal(calls.length, 0);
  });

  it('a worker that exits holds nothing any more', () => {
    const { monitor } = setup();
    monitor.observe('w1', msg(held(), []));
    monitor.forget('w1');
    assert.equal(monitor.running, false);
  });

  it('without a wired fallback the decision is logged and counted only', () => {
    const counted = { fallbacks: 0 };
    const log = capturedLogger('info');
    const monitor = new CanaryMonitor({
      logger: log.logger,
      fallback: () => null,
      metrics: { requests: () => undefined, fellBack: () => counted.fallbacks++ },
      timer: manualTimer().timer,
    });
    monitor.observe('local', msg(held(), [win(C, 10_000, 200, 40), win(N, 10_000, 4_000)]));
    assert.equal(monitor.check()?.kind, 'fall-back');
    assert.equal(counted.fallbacks, 1);
    assert.equal(log.lines[0]?.wired, false);
  });

  it('with the default (interval) timer: armed while held, disarmed by stop', () => {
    const monitor = new CanaryMonitor({ logger: pino({ level: 'silent' }), fallback: () => null, checkEveryMs: 60_000 });
    monitor.observe('local', msg(held(), []));
    assert.equal(monitor.running, true);
    monitor.stop();
    assert.equal(monitor.running, false);
  });
});
