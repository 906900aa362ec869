import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import { latencyQuantileMs } from './latency-quantile.ts';

const empty = () => new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);

describe('latencyQuantileMs', () => {
  it('is null for an empty histogram', () => assert.equal(latencyQuantileMs(empty(), 0.99), null));
  it('interpolates inside the bucket (first bucket from 0)', () => {
    const c = empty();
    c[0] = 100; // all ≤ 1 ms
    assert.equal(latencyQuantileMs(c, 0.99), 0.99);
  });
  it('reads the p99 of a two-bucket mix', () => {
    const c = empty();
    c[LATENCY_BUCKET_BOUNDS_MS.indexOf(10)] = 98; // (5, 10]
    c[LATENCY_BUCKET_BOUNDS_MS.indexOf(100)] = 2; // (75, 100]
    // rank 99: the first of the two slow ones, halfway through (75, 100]
    assert.equal(latencyQuantileMs(c, 0.99), 87.5);
  });
  it('the overflow bucket reads as the last bound', () => {
    const c = empty();
    c[c.length - 1] = 10;
    assert.equal(latencyQuantileMs(c, 0.99), LATENCY_BUCKET_BOUNDS_MS.at(-1));
  });
});
