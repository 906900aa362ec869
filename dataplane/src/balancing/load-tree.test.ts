/**
 * LoadTree-backed least-connections and latency-aware pick exactly what their linear scans
 * (the rule as written) pick, whatever the sequence of stats changes and exclusions.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { BackendStats } from '../runtime/backend-stats.ts';
import { allBackends } from './candidates.ts';
import { createLatencyAware, latencyAwareScan } from './latency-aware.ts';
import { createLeastConnections, leastConnectionsScan } from './least-connections.ts';
import { TREE_MIN } from './load-tree.ts';
import { backendsOf, ctxOf, statsFor } from './testing/balancer-fixtures.ts';

const event = fc.record({
  backend: fc.nat(),
  kind: fc.constantFrom('begin', 'end', 'head', 'head5xx', 'failure', 'pick', 'pick'),
  latency: fc.integer({ min: 0, max: 3000 }),
  exclude: fc.array(fc.nat(), { maxLength: 3 }),
});

function apply(stats: readonly BackendStats[], e: { backend: number; kind: string; latency: number }): void {
  const s = stats[e.backend % stats.length];
  if (s === undefined) throw new Error('no stats');
  if (e.kind === 'begin') s.begin();
  else if (e.kind === 'end') s.end();
  else if (e.kind === 'head') s.recordHead(200, e.latency);
  else if (e.kind === 'head5xx') s.recordHead(503, e.latency);
  else if (e.kind === 'failure') s.recordFailure(e.latency);
}

describe('LoadTree policies = their linear scans', () => {
  test('least-connections and latency-aware, random loads, weights, sizes and retries', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 40 }), fc.array(event, { maxLength: 200 }), (raw, events) => {
        const backends = backendsOf(...raw.map((w) => w * 50));
        const n = backends.length;
        const lcStats = statsFor(n);
        const laStats = statsFor(n);
        const lc = createLeastConnections(backends, lcStats);
        const la = createLatencyAware(laStats);
        const weights = backends.map((b) => b.weight);
        const all = allBackends(n);
        for (const [step, e] of events.entries()) {
          if (e.kind !== 'pick') {
            apply(lcStats, e);
            apply(laStats, e);
            continue;
          }
          const exclude = e.exclude.length === 0 ? null : new Set(e.exclude.map((x) => x % n));
          assert.equal(lc.pick(all, ctxOf(null, exclude)), leastConnectionsScan(weights, lcStats, all, exclude), `lc step ${step}`);
          assert.equal(la.pick(all, ctxOf(null, exclude)), latencyAwareScan(laStats, all, exclude), `la step ${step}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a newer balancer takes the stats over; the older one scans and stays exact', () => {
    const n = TREE_MIN + 4;
    const backends = backendsOf(...new Array<number>(n).fill(100));
    const stats = statsFor(n);
    const all = allBackends(n);
    const older = createLeastConnections(backends, stats);
    assert.equal(older.pick(all, ctxOf()), 0);
    stats[0]?.begin();
    assert.equal(older.pick(all, ctxOf()), 1);
    const newer = createLeastConnections(backends, stats); // next generation, same stats
    assert.equal(newer.pick(all, ctxOf()), 1);
    for (let i = 1; i < 6; i++) stats[i]?.begin();
    assert.equal(newer.pick(all, ctxOf()), 6);
    assert.equal(older.pick(all, ctxOf()), 6, 'displaced: scans');
    assert.equal(newer.pick(all, ctxOf(null, new Set([6, 7]))), 8);
    for (let i = 0; i < n; i++) stats[i]?.begin();
    assert.equal(newer.pick(all, ctxOf(null, new Set(all))), null);
  });
});
