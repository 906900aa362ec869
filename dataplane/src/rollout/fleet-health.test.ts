import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenerationHealth } from '@spooky/proto';
import { LATENCY_BUCKETS } from '../observability/generation-health.ts';
import { FleetHealth } from './fleet-health.ts';

const win = (digest: string, from: number, to: number, requests: number, local5xx = 0, upstream5xx = 0, bucket = 3): GenerationHealth => {
  const latencyBucketCounts = new Array<number>(LATENCY_BUCKETS).fill(0);
  latencyBucketCounts[bucket] = requests;
  return { generation: { scope: 's', seq: 1, digest }, fromUnixMs: from, toUnixMs: to, requests, local5xx, upstream5xx, latencyBucketCounts };
};

describe('FleetHealth: the node-wide windows for Reports', () => {
  it('sums the windows of every process per generation over the span measured', () => {
    const f = new FleetHealth();
    f.add([win('n', 1_000, 2_000, 10, 1, 0), win('c', 1_000, 2_000, 2, 0, 1)]); // worker 1
    f.add([win('n', 1_100, 2_100, 5, 0, 2, 7)]); // worker 2
    const out = f.health();
    assert.equal(out.length, 2);
    const n = out.find((w) => w.generation?.digest === 'n');
    assert.equal(n?.requests, 15);
    assert.equal(n?.local5xx, 1);
    assert.equal(n?.upstream5xx, 2);
    assert.equal(n?.fromUnixMs, 1_000);
    assert.equal(n?.toUnixMs, 2_100);
    assert.equal(n?.latencyBucketCounts[3], 10);
    assert.equal(n?.latencyBucketCounts[7], 5);
    assert.deepEqual(f.health(), [], 'a call returns what came since the previous one');
  });

  it('does not alias the windows it was given', () => {
    const f = new FleetHealth();
    const w = win('n', 0, 1, 1);
    f.add([w]);
    f.add([win('n', 1, 2, 1)]);
    f.health();
    assert.equal(w.requests, 1);
    assert.equal(w.latencyBucketCounts[3], 1);
  });

  it('drops windows of another bucket layout and empty ones', () => {
    const f = new FleetHealth();
    f.add([{ ...win('n', 0, 1, 5), latencyBucketCounts: [5] }, win('n', 0, 1, 0)]);
    assert.deepEqual(f.health(), []);
    assert.equal(f.dropped, 1);
  });

  it('is bounded in generations: the oldest sum goes first', () => {
    const f = new FleetHealth({ maxGenerations: 2 });
    f.add([win('a', 0, 1, 1), win('b', 1, 2, 1), win('c', 2, 3, 1)]);
    assert.deepEqual(
      f.health().map((w) => w.generation?.digest),
      ['b', 'c'],
    );
    assert.equal(f.dropped, 1);
  });
});
