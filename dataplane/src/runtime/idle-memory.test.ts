import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_IDLE_MEMORY_POLICY, IDLE_GC_ENV, IdleMemoryDetector, type IdleMemoryPolicy, lastResortGc, startIdleMemoryRelease } from './idle-memory.ts';

/** Two quiet seconds, 10 s apart: short enough to spell out the rules sample by sample. */
const QUICK: IdleMemoryPolicy = { busyThreshold: 0.1, idleThreshold: 0.03, idleSamples: 2, minGapMs: 10_000 };

/** Feeds one sample a second (fake clock: t = index × 1000 ms + startMs); returns the release times. */
function feed(detector: IdleMemoryDetector, samples: readonly number[], startMs = 0): number[] {
  const released: number[] = [];
  samples.forEach((u, i) => {
    const t = startMs + i * 1000;
    if (detector.sample(u, t)) released.push(t);
  });
  return released;
}

test('an idle process that was never loaded is never collected', () => {
  assert.deepEqual(feed(new IdleMemoryDetector(), Array(30).fill(0.005)), []);
});

test('defaults: after load, the fifth quiet second releases once, and not again while idle', () => {
  const d = new IdleMemoryDetector();
  assert.deepEqual(DEFAULT_IDLE_MEMORY_POLICY, { busyThreshold: 0.1, idleThreshold: 0.03, idleSamples: 5, minGapMs: 60_000 });
  // 10 s of load, then 20 s idle: released at t = 14 s (quiet from 10 s), 4 s before the goal's 10 s.
  const released = feed(d, [...Array(10).fill(0.6), ...Array(20).fill(0.01)]);
  assert.deepEqual(released, [14_000]);
});

test('defaults: load again within a minute of a release waits for the minute', () => {
  const d = new IdleMemoryDetector();
  const burst = [...Array(5).fill(0.5), ...Array(10).fill(0)];
  // Bursts of 5 s load + 10 s quiet, from t = 0: released at 9 s, then not before 69 s.
  const released = feed(d, Array.from({ length: 6 }, () => burst).flat());
  assert.deepEqual(released, [9_000, 69_000]);
});

test('light traffic between the thresholds neither counts as load nor as quiet', () => {
  const d = new IdleMemoryDetector(QUICK);
  // Load, then a trickle (5 % busy) that keeps breaking the idle streak, then quiet.
  const released = feed(d, [0.5, 0.02, 0.05, 0.02, 0.05, 0.02, 0.02]);
  assert.deepEqual(released, [6_000]);
  // The trickle alone, with no load before it, releases nothing.
  assert.deepEqual(feed(new IdleMemoryDetector(QUICK), [0.05, 0.02, 0.02, 0.05, 0.02, 0.02]), []);
});

test('intermittent load releases at most once per minGapMs', () => {
  const d = new IdleMemoryDetector(QUICK);
  // Busy 1 s, idle 2 s, repeated for 30 s: would release every 3 s without the gap.
  const pattern = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 0.8 : 0));
  const released = feed(d, pattern);
  assert.ok(released.length >= 2, `released at ${released.join(', ')}`);
  for (let i = 1; i < released.length; i++) assert.ok(released[i]! - released[i - 1]! >= 10_000, `gap at ${released[i]}`);
});

test('a release needs new load before the next one', () => {
  const d = new IdleMemoryDetector(QUICK);
  assert.deepEqual(feed(d, [0.9, 0, 0, 0, 0]), [2_000]);
  // Long after the gap, still idle: nothing; then load again and quiet: released again.
  assert.deepEqual(feed(d, [0, 0, 0.9, 0, 0], 60_000), [64_000]);
});

test('SPOOKY_IDLE_GC=0 disables the release; otherwise an unref’d timer is started and stops', () => {
  assert.equal(startIdleMemoryRelease({ [IDLE_GC_ENV]: '0' }), null);
  const handle = startIdleMemoryRelease({}, { intervalMs: 50 });
  assert.ok(handle);
  handle.stop();
});

test('the last-resort GC is callable without exposing gc on the global object', () => {
  const gc = lastResortGc();
  assert.equal(typeof gc, 'function');
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  // Garbage in the young generation, then the release: the committed heap does not grow.
  let junk: object[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  assert.equal(junk.length, 200_000);
  junk = null;
  const before = process.memoryUsage().heapUsed;
  gc({ type: 'major', flavor: 'last-resort' });
  assert.ok(process.memoryUsage().heapUsed < before, 'the garbage was collected');
});
