import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWellFormed, type LatencyHistogram, mergeHistograms, quantileMs } from './latency-histogram.ts';

const h = (counts: number[], boundsMs = [10, 20, 50]): LatencyHistogram => ({ boundsMs, counts });

describe('latency histograms', () => {
  const quantiles: ReadonlyArray<[string, LatencyHistogram, number, number | null]> = [
    ['empty', h([0, 0, 0, 0]), 0.99, null],
    ['all in the first bucket interpolates from 0', h([100, 0, 0, 0]), 0.5, 5],
    ['p99 inside the second bucket', h([90, 10, 0, 0]), 0.99, 19],
    ['p99 exactly at a bucket edge', h([99, 1, 0, 0]), 0.99, 10],
    ['overflow bucket is the last bound (a lower estimate)', h([0, 0, 0, 5]), 0.99, 50],
  ];
  for (const [name, hist, q, expected] of quantiles) {
    it(`quantile: ${name}`, () => {
      const got = quantileMs(hist, q);
      if (expected === null) assert.equal(got, null);
      else assert.ok(got !== null && Math.abs(got - expected) < 1e-9, `got ${got}`);
    });
  }

  it('merging sums buckets, so the p99 of two nodes is the p99 of their requests together', () => {
    const fast = h([1000, 0, 0, 0]);
    const slow = h([0, 0, 100, 0]);
    const { merged, dropped } = mergeHistograms([fast, slow]);
    assert.equal(dropped, 0);
    assert.deepEqual(merged?.counts, [1000, 0, 100, 0]);
    // 1 100 requests: rank 1 089 lies in the slow bucket (20, 50]; an average of the two p99s would say ≈ 27.
    assert.ok(Math.abs(quantileMs(merged!, 0.99)! - (20 + (30 * 89) / 100)) < 1e-9);
  });

  it('another layout or a malformed histogram is dropped and counted', () => {
    const { merged, dropped } = mergeHistograms([h([1, 0, 0, 0]), h([1, 1, 1], [10, 20]), h([1, 1, 1, 1], [10, 5, 50]), h([1, 0, 0])]);
    assert.equal(dropped, 3);
    assert.deepEqual(merged?.counts, [1, 0, 0, 0]);
    assert.deepEqual(mergeHistograms([]), { merged: null, dropped: 0 });
  });

  it('well-formedness', () => {
    assert.equal(isWellFormed(h([0, 0, 0, 0])), true);
    assert.equal(isWellFormed(h([0, -1, 0, 0])), false);
    assert.equal(isWellFormed(h([0, 0.5, 0, 0])), false);
    assert.equal(isWellFormed(h([0, 0, 0, 0], [10, 10, 50])), false);
    assert.equal(isWellFormed(h([0, 0, 0, 0], [10, 20, Number.POSITIVE_INFINITY])), false);
  });
});
