import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import type { Generation } from '../runtime/generation.ts';
import { GenerationHealthRecorder, LATENCY_BUCKETS, latencyBucket } from './generation-health.ts';

/** Only identity and ref matter to the recorder. */
const gen = (seq: number): Generation => ({ ref: { scope: 's', seq, digest: `d${seq}` } }) as unknown as Generation;

function setup(maxBacklog?: number) {
  let now = 1_000;
  const held: { serving: Generation | null; candidate: Generation | null } = { serving: null, candidate: null };
  const recorder = new GenerationHealthRecorder({
    held: { serving: () => held.serving, candidate: () => held.candidate },
    now: () => now,
    ...(maxBacklog === undefined ? {} : { maxBacklog }),
  });
  return { recorder, held, advance: (ms: number) => (now += ms), now: () => now };
}

describe('latencyBucket: the histogram layout of LATENCY_BUCKET_BOUNDS_MS', () => {
  const table: ReadonlyArray<[number, number]> = [
    [0, 0],
    [0.4, 0],
    [1, 0], // ≤ 1 ms is bucket 0
    [1.0001, 1],
    [2, 1],
    [4.9, 2],
    [1000, LATENCY_BUCKET_BOUNDS_MS.indexOf(1000)],
    [60_000, LATENCY_BUCKET_BOUNDS_MS.length - 1],
    [60_001, LATENCY_BUCKET_BOUNDS_MS.length], // overflow
    [Number.POSITIVE_INFINITY, LATENCY_BUCKET_BOUNDS_MS.length],
    [-5, 0],
  ];
  for (const [ms, bucket] of table) it(`${ms} ms → bucket ${bucket}`, () => assert.equal(latencyBucket(ms), bucket));
  it('every bound lands in its own bucket, just above it in the next', () => {
    LATENCY_BUCKET_BOUNDS_MS.forEach((b, i) => {
      assert.equal(latencyBucket(b), i);
      assert.equal(latencyBucket(b + 1e-6), i + 1);
    });
    assert.equal(LATENCY_BUCKETS, LATENCY_BUCKET_BOUNDS_MS.length + 1);
  });
});

describe('GenerationHealthRecorder: windows', () => {
  it('counts requests, local and upstream 5xx and latency into the pinned generation, closed at call time', () => {
    const { recorder, held, advance } = setup();
    const n = gen(1);
    held.serving = n;
    recorder.record(n, 200, false, 3);
    recorder.record(n, 502, true, 12);
    recorder.record(n, 503, false, 70_000);
    recorder.record(n, 404, true, 1);
    advance(500);
    const [w, ...rest] = recorder.close();
    assert.equal(rest.length, 0);
    assert.deepEqual(w?.generation, { scope: 's', seq: 1, digest: 'd1' });
    assert.equal(w?.fromUnixMs, 1_000);
    assert.equal(w?.toUnixMs, 1_500);
    assert.equal(w?.requests, 4);
    assert.equal(w?.local5xx, 1);
    assert.equal(w?.upstream5xx, 1);
    const counts = w?.latencyBucketCounts ?? [];
    assert.equal(counts.length, LATENCY_BUCKETS);
    assert.equal(counts[0], 1); // 1 ms
    assert.equal(counts[latencyBucket(3)], 1);
    assert.equal(counts[latencyBucket(12)], 1);
    assert.equal(counts[LATENCY_BUCKETS - 1], 1); // overflow
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      4,
    );
  });

  it('the next window starts where the previous closed; an empty window is left out', () => {
    const { recorder, held, advance } = setup();
    const n = gen(1);
    held.serving = n;
    recorder.record(n, 200, false, 1);
    advance(100);
    assert.equal(recorder.close().length, 1);
    advance(100);
    assert.deepEqual(recorder.close(), [], 'no requests: no window');
    recorder.record(n, 200, false, 1);
    advance(100);
    const [w] = recorder.close();
    assert.equal(w?.fromUnixMs, 1_200);
    assert.equal(w?.toUnixMs, 1_300);
    assert.equal(w?.requests, 1);
  });

  it('serving and candidate each get their own window; other generations are not counted', () => {
    const { recorder, held, advance } = setup();
    const n = gen(1);
    const c = gen(2);
    const stray = gen(3);
    held.serving = n;
    held.candidate = c;
    for (let i = 0; i < 5; i++) recorder.record(n, 200, false, 1);
    for (let i = 0; i < 2; i++) recorder.record(c, 502, true, 1);
    recorder.record(stray, 500, true, 1);
    advance(10);
    const windows = recorder.close();
    assert.deepEqual(
      windows.map((w) => [w.generation?.seq, w.requests, w.local5xx]),
      [
        [1, 5, 0],
        [2, 2, 2],
      ],
    );
  });

  it('after a promote the old serving generation frees its slot; its late requests are no longer counted', () => {
    const { recorder, held, advance } = setup();
    const n = gen(1);
    const c = gen(2);
    held.serving = n;
    held.candidate = c;
    recorder.record(n, 200, false, 1);
    recorder.record(c, 200, false, 1);
    held.serving = c;
    held.candidate = null;
    advance(10);
    assert.equal(recorder.close().length, 2, 'both windows of the period are reported');
    recorder.record(n, 200, false, 1); // pinned N before the promote, finished after
    const next = gen(4);
    held.candidate = next;
    recorder.record(next, 200, false, 1);
    advance(10);
    assert.deepEqual(
      recorder.close().map((w) => w.generation?.seq),
      [4],
    );
  });

  it('the backlog is bounded: beyond the cap the oldest windows are dropped and counted', () => {
    const { recorder, held, advance } = setup(2);
    // Each swap makes a new generation claim the slot of one no longer held, closing its window.
    for (let seq = 1; seq <= 6; seq++) {
      const g = gen(seq);
      held.serving = g;
      recorder.record(g, 200, false, 1);
      advance(10);
    }
    const windows = recorder.close();
    assert.equal(windows.length, 2);
    assert.deepEqual(
      windows.map((w) => w.generation?.seq),
      [5, 6],
      'the newest are kept, oldest first',
    );
    assert.equal(recorder.dropped, 4, "six windows, two kept");
  });

  it('a generation without identity (local file) reports no ref', () => {
    const { recorder, held } = setup();
    const local = { ref: null } as unknown as Generation;
    held.serving = local;
    recorder.record(local, 200, false, 1);
    assert.equal(recorder.close()[0]?.generation, undefined);
  });
});
