import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackendStats, EWMA_ALPHA, FAILURE_FLOOR_MS, failedEwma, nextEwma } from '../runtime/backend-stats.ts';
import { allBackends } from './candidates.ts';
import { ACTIVE_PENALTY_MS, createLatencyAware } from './latency-aware.ts';
import { ctxOf, statsFor } from './testing/balancer-fixtures.ts';

function sampled(...ewmas: Array<number | null>): BackendStats[] {
  return ewmas.map((e) => {
    const s = new BackendStats();
    if (e !== null) s.recordHead(200, e);
    return s;
  });
}

describe('latency EWMA rules', () => {
  test('first sample sets, later samples blend with α = 0.2', () => {
    assert.equal(EWMA_ALPHA, 0.2);
    assert.equal(nextEwma(null, 40), 40);
    assert.equal(nextEwma(40, 140), 60);
    const s = new BackendStats();
    s.recordHead(200, 100);
    s.recordHead(404, 200);
    assert.equal(s.ewmaMs, 120);
    assert.ok(s.sampled);
  });
  test('5xx heads are not sampled', () => {
    const s = new BackendStats();
    s.recordHead(503, 5);
    assert.equal(s.sampled, false);
    s.recordHead(200, 50);
    s.recordHead(500, 1);
    assert.equal(s.ewmaMs, 50);
  });
  test('a failure sets the EWMA to max(previous, latency, 1 s)', () => {
    assert.equal(FAILURE_FLOOR_MS, 1000);
    assert.equal(failedEwma(null, 20), 1000);
    assert.equal(failedEwma(1500, 20), 1500);
    assert.equal(failedEwma(30, 2500), 2500);
    const s = new BackendStats();
    s.recordHead(200, 10);
    s.recordFailure(300);
    assert.equal(s.ewmaMs, 1000);
    s.recordHead(200, 10);
    assert.equal(s.ewmaMs, 0.2 * 10 + 0.8 * 1000);
  });
});

describe('latency-aware', () => {
  test('lowest EWMA wins', () => {
    assert.equal(createLatencyAware(sampled(50, 20, 30)).pick(allBackends(3), ctxOf()), 1);
  });
  test('score adds 10 ms per active request', () => {
    assert.equal(ACTIVE_PENALTY_MS, 10);
    const stats = sampled(50, 20, 30);
    for (let i = 0; i < 3; i++) stats[1]?.begin(); // 20 + 30 = 50 vs 30 → backend 2
    assert.equal(createLatencyAware(stats).pick(allBackends(3), ctxOf()), 2);
    stats[2]?.begin();
    stats[2]?.begin(); // 30 + 20 = 50: tie 50/50/50 → lowest index
    assert.equal(createLatencyAware(stats).pick(allBackends(3), ctxOf()), 0);
  });
  test('unsampled backends are scored at the mean of the sampled ones', () => {
    // mean(10, 50) = 30 for backend 1; 30 < 50 but > 10 → backend 0
    assert.equal(createLatencyAware(sampled(10, null, 50)).pick(allBackends(3), ctxOf()), 0);
    // backend 0 busy: 10 + 30 = 40 > 30 → the unsampled backend 1 (scored 30)
    const stats = sampled(10, null, 50);
    for (let i = 0; i < 3; i++) stats[0]?.begin();
    assert.equal(createLatencyAware(stats).pick(allBackends(3), ctxOf()), 1);
    // nobody sampled: all score 0 + active → fewest active, lowest index
    const fresh = statsFor(3);
    fresh[0]?.begin();
    assert.equal(createLatencyAware(fresh).pick(allBackends(3), ctxOf()), 1);
  });
  test('the mean is over eligible backends only', () => {
    // eligible {1, 2}: mean = 100 for unsampled 2 → 2 (100) beats 1 (100 + 10)
    const stats = sampled(1, 100, null);
    stats[1]?.begin();
    assert.equal(createLatencyAware(stats).pick(allBackends(3), ctxOf(null, new Set([0]))), 2);
  });
});
