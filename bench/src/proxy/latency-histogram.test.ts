import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketOf, bucketUpper, LatencyHistogram } from './latency-histogram.ts';

describe('LatencyHistogram', () => {
  it('buckets are contiguous, monotonic and at most 1/64 wide relative to their value', () => {
    let prev = -1;
    for (let v = 0; v < 5_000_000; v = v < 1000 ? v + 1 : Math.ceil(v * 1.003)) {
      const b = bucketOf(v);
      assert.ok(b >= prev, `bucket of ${v} went backwards`);
      prev = b;
      assert.ok(bucketUpper(b) >= v, `upper edge of ${v}'s bucket is below it`);
      assert.ok(bucketUpper(b) - v <= Math.max(0, v / 64), `bucket of ${v} too wide: ${bucketUpper(b)}`);
      if (b > 0) assert.ok(bucketUpper(b - 1) < v, `${v} also fits the previous bucket`);
    }
  });

  it('quantiles of a known distribution are within bucket precision and never below the truth', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.recordMs(i / 10); // 0.1 … 1000 ms
    for (const [q, truth] of [[0.5, 500], [0.9, 900], [0.99, 990], [1, 1000]] as const) {
      const got = h.quantileMs(q);
      assert.ok(got >= truth && got <= truth * 1.016, `q${q}: ${got} vs ${truth}`);
    }
    assert.equal(h.maxMs(), 1000);
    assert.equal(h.count, 10_000);
  });

  it('merging serialised histograms equals recording everything into one', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 3000; i++) {
      const v = ((i * 7919) % 5000) / 7;
      (i % 2 === 0 ? a : b).recordMs(v);
      all.recordMs(v);
    }
    const merged = new LatencyHistogram();
    merged.merge(JSON.parse(JSON.stringify(a.toJSON())));
    merged.merge(b.toJSON());
    assert.deepEqual(merged.toJSON(), all.toJSON());
  });

  it('is NaN when empty and clamps absurd values', () => {
    const h = new LatencyHistogram();
    assert.ok(Number.isNaN(h.quantileMs(0.99)));
    h.recordMs(1e12);
    h.recordMs(-5);
    assert.equal(h.count, 2);
    assert.equal(h.quantileMs(0.01), 0);
    assert.ok(h.maxMs() > 2e6);
  });
});
