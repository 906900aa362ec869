import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Balancer } from './balancer.ts';
import { greatestCommonDivisor } from './balancer.ts';
import { allBackends } from './candidates.ts';
import { createRoundRobin, createRoundRobinState, smoothWeightedStep } from './round-robin.ts';
import { backendsOf, ctxOf } from './testing/balancer-fixtures.ts';

const seq = (b: Balancer, n: number, candidates: readonly number[]) => Array.from({ length: n }, () => b.pick(candidates, ctxOf()));

describe('round-robin', () => {
  test('equal weights rotate strictly', () => {
    const b = createRoundRobin(backendsOf(100, 100, 100), createRoundRobinState(3));
    assert.deepEqual(seq(b, 9, allBackends(3)), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });
  test('smooth 5:1:1 sequence (nginx)', () => {
    const b = createRoundRobin(backendsOf(5, 1, 1), createRoundRobinState(3));
    assert.deepEqual(seq(b, 14, allBackends(3)), [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
  });
  test('exact distribution over whole cycles', () => {
    const b = createRoundRobin(backendsOf(50, 30, 20), createRoundRobinState(3));
    const counts = [0, 0, 0];
    for (const p of seq(b, 1000, allBackends(3))) counts[p as number] = (counts[p as number] ?? 0) + 1;
    assert.deepEqual(counts, [500, 300, 200]);
  });
  test('rotates over the candidates only', () => {
    const b = createRoundRobin(backendsOf(1, 1, 1, 1), createRoundRobinState(4));
    assert.deepEqual(seq(b, 6, [1, 3]), [1, 3, 1, 3, 1, 3]);
  });
  test('cursor state survives a rebuilt balancer (generation swap)', () => {
    const state = createRoundRobinState(3);
    assert.equal(createRoundRobin(backendsOf(1, 1, 1), state).pick(allBackends(3), ctxOf()), 0);
    assert.equal(createRoundRobin(backendsOf(1, 1, 1), state).pick(allBackends(3), ctxOf()), 1);
  });
  test('gcd', () => {
    assert.equal(greatestCommonDivisor([100, 50, 250]), 50);
    assert.equal(greatestCommonDivisor([7]), 7);
    assert.equal(greatestCommonDivisor([]), 1);
  });
});

describe('smooth-weighted engine = reference rule (smoothWeightedStep)', () => {
  const op = fc.record({
    // null = every backend a candidate; otherwise a membership mask (bits) over backends
    mask: fc.option(fc.nat(), { nil: null, freq: 2 }),
    exclude: fc.option(fc.nat(), { nil: null, freq: 3 }),
  });
  test('same picks for random weights and random full / degraded / retry picks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 250 }), fc.array(op, { maxLength: 120 }), (raw, scale, ops) => {
        const backends = backendsOf(...raw.map((w) => w * scale));
        const n = backends.length;
        const gcd = greatestCommonDivisor(backends.map((b) => b.weight));
        const weights = backends.map((b) => b.weight / gcd);
        const reference = new Array<number>(n).fill(0);
        const state = createRoundRobinState(n);
        let balancer = createRoundRobin(backends, state);
        const lists = new Map<number, number[]>();
        for (const [step, o] of ops.entries()) {
          // Degraded lists are reused by identity for a given mask (as CandidateFilter does), and fresh every other time.
          const fresh = allBackends(n).filter((i) => (o.mask as number) & (1 << i));
          const cachedList = o.mask === null ? null : (lists.get(o.mask % 8) ?? fresh);
          if (o.mask !== null && !lists.has(o.mask % 8)) lists.set(o.mask % 8, fresh);
          const candidates = o.mask === null ? allBackends(n) : step % 2 === 0 ? fresh : (cachedList as number[]);
          const exclude = o.exclude === null ? null : new Set([o.exclude % n]);
          const expected = smoothWeightedStep(weights, reference, candidates, exclude);
          assert.equal(balancer.pick(candidates, ctxOf(null, exclude)), expected, `step ${step}`);
          if (step % 37 === 36) balancer = createRoundRobin(backends, state); // generation swap
        }
      }),
      { numRuns: 300 },
    );
  });
  test('long equal-weight and mixed runs match over many cycles (fold of t included)', () => {
    for (const raw of [[1, 1, 1, 1, 1], [5, 1, 1], [100, 150, 200, 100, 150, 200, 7]]) {
      const backends = backendsOf(...raw);
      const gcd = greatestCommonDivisor(raw);
      const weights = raw.map((w) => w / gcd);
      const reference = new Array<number>(raw.length).fill(0);
      const balancer = createRoundRobin(backends, createRoundRobinState(raw.length));
      const all = allBackends(raw.length);
      for (let i = 0; i < (1 << 20) + 5000; i++) {
        const expected = smoothWeightedStep(weights, reference, all, null);
        const got = balancer.pick(all, ctxOf());
        if (got !== expected) assert.fail(`pick ${i}: ${got} ≠ ${expected}`);
      }
    }
  });
});
