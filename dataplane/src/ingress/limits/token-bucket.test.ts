import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './token-bucket.ts';

test('token bucket: table of take() results over time', () => {
  // [time ms, expected take() result]
  const table: Array<[number, boolean]> = [
    [0, true],
    [0, true],
    [0, true], // burst 3 spent
    [0, false],
    [99, false], // 10/s: 0.99 tokens
    [100, true], // one token after 100 ms
    [100, false],
    [400, true], // 3 tokens accrued, capped at burst 3
    [400, true],
    [400, true],
    [400, false],
    [350, false], // clock went backwards: nothing refilled
    [10_000, true], // long pause: only burst tokens
    [10_000, true],
    [10_000, true],
    [10_000, false],
  ];
  const bucket = new TokenBucket(10, 3, 0);
  table.forEach(([now, want], i) => {
    assert.equal(bucket.take(now), want, `row ${i} at ${now} ms`);
  });
});

test('token bucket: reconfigure keeps saved tokens up to the new burst', () => {
  const bucket = new TokenBucket(1, 10, 0);
  bucket.reconfigure(1, 2, 0);
  assert.equal(bucket.available(0), 2);
  bucket.reconfigure(1000, 100, 0);
  assert.equal(bucket.available(0), 2, 'a larger bucket grants no fresh burst');
  assert.equal(bucket.available(50), 52);
});
