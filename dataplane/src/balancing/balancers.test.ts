import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancer, RandomSource, WeightedBackend } from './balancer.ts';
import { greatestCommonDivisor } from './balancer.ts';
import { createRandom, searchCumulative } from './random.ts';
import { createRoundRobin, createRoundRobinState } from './round-robin.ts';

/** Deterministic PRNG (mulberry32) so distribution assertions are reproducible. */
function seeded(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ws = (...weights: number[]): WeightedBackend[] => weights.map((weight) => ({ weight }));

const policies: Array<[string, (b: WeightedBackend[]) => Balancer]> = [
  ['round-robin', (b) => createRoundRobin(b, createRoundRobinState(b.length))],
  ['random', (b) => createRandom(b, seeded(7))],
];

function counts(balancer: Balancer, n: number, excluded: ReadonlySet<number> | null = null): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = balancer.pick({ excluded });
    assert.notEqual(p, null);
    out[p as number] = (out[p as number] ?? 0) + 1;
  }
  return out;
}

// One contract every policy passes.
for (const [name, make] of policies) {
  describe(`balancer contract: ${name}`, () => {
    test('single backend is always picked', () => {
      const b = make(ws(100));
      for (let i = 0; i < 10; i++) assert.equal(b.pick({ excluded: null }), 0);
    });
    test('never picks an excluded backend', () => {
      const b = make(ws(1, 1, 1));
      const excluded = new Set([0, 2]);
      for (let i = 0; i < 50; i++) assert.equal(b.pick({ excluded }), 1);
    });
    test('everything excluded → null', () => {
      const b = make(ws(1, 2));
      assert.equal(b.pick({ excluded: new Set([0, 1]) }), null);
    });
    test('empty backend list → null', () => {
      assert.equal(make([]).pick({ excluded: null }), null);
    });
    test('respects weights over many picks', () => {
      const c = counts(make(ws(300, 100)), 4000);
      const share = (c[0] ?? 0) / 4000;
      assert.ok(share > 0.7 && share < 0.8, `share ${share}`);
    });
    test('reports its type', () => assert.equal(make(ws(1)).type, name));
  });
}

describe('round-robin', () => {
  test('equal weights rotate strictly', () => {
    const b = createRoundRobin(ws(100, 100, 100), createRoundRobinState(3));
    const seq = Array.from({ length: 9 }, () => b.pick({ excluded: null }));
    assert.deepEqual(seq, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });
  test('smooth 5:1:1 sequence (nginx)', () => {
    const b = createRoundRobin(ws(5, 1, 1), createRoundRobinState(3));
    const seq = Array.from({ length: 14 }, () => b.pick({ excluded: null }));
    assert.deepEqual(seq, [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
  });
  test('exact distribution over whole cycles', () => {
    const c = counts(createRoundRobin(ws(50, 30, 20), createRoundRobinState(3)), 1000);
    assert.deepEqual(c, [500, 300, 200]);
  });
  test('cursor state survives a rebuilt balancer (generation swap)', () => {
    const state = createRoundRobinState(3);
    assert.equal(createRoundRobin(ws(1, 1, 1), state).pick({ excluded: null }), 0);
    assert.equal(createRoundRobin(ws(1, 1, 1), state).pick({ excluded: null }), 1);
  });
  test('gcd', () => {
    assert.equal(greatestCommonDivisor([100, 50, 250]), 50);
    assert.equal(greatestCommonDivisor([7]), 7);
    assert.equal(greatestCommonDivisor([]), 1);
  });
});

describe('random', () => {
  test('weighted distribution with a seeded source', () => {
    const n = 60_000;
    const c = counts(createRandom(ws(1, 2, 3), seeded(42)), n);
    const expected = [1 / 6, 2 / 6, 3 / 6];
    for (let i = 0; i < 3; i++) {
      const share = (c[i] ?? 0) / n;
      assert.ok(Math.abs(share - (expected[i] as number)) < 0.01, `backend ${i}: ${share}`);
    }
  });
  test('exclusions redistribute over the rest by weight', () => {
    const n = 20_000;
    const c = counts(createRandom(ws(1, 1, 3), seeded(3)), n, new Set([2]));
    assert.equal(c[2], undefined);
    const share = (c[0] ?? 0) / n;
    assert.ok(Math.abs(share - 0.5) < 0.02, `share ${share}`);
  });
  test('edges of the cumulative table', () => {
    const b = createRandom(ws(1, 1), () => 0);
    assert.equal(b.pick({ excluded: null }), 0);
    const b2 = createRandom(ws(1, 1), () => 0.999999);
    assert.equal(b2.pick({ excluded: null }), 1);
    assert.equal(searchCumulative([1, 2, 6], 1), 1);
    assert.equal(searchCumulative([1, 2, 6], 0.5), 0);
    assert.equal(searchCumulative([1, 2, 6], 5.9), 2);
  });
});
