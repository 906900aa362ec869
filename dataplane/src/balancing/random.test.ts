import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancer } from './balancer.ts';
import { allBackends } from './candidates.ts';
import { createRandom, searchCumulative } from './random.ts';
import { backendsOf, ctxOf, seeded } from './testing/balancer-fixtures.ts';

function shares(b: Balancer, n: number, candidates: readonly number[], exclude: ReadonlySet<number> | null = null): number[] {
  const counts = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const p = b.pick(candidates, ctxOf(null, exclude)) as number;
    counts[p] = (counts[p] ?? 0) + 1;
  }
  return counts.map((c) => c / n);
}

describe('random', () => {
  test('weighted distribution with a seeded source', () => {
    const s = shares(createRandom(backendsOf(1, 2, 3), seeded(42)), 60_000, allBackends(3));
    for (const [i, expected] of [1 / 6, 2 / 6, 3 / 6].entries()) {
      assert.ok(Math.abs((s[i] as number) - expected) < 0.01, `backend ${i}: ${s[i]}`);
    }
  });
  test('exclusions redistribute over the rest by weight (redraw path)', () => {
    const s = shares(createRandom(backendsOf(1, 1, 3), seeded(3)), 20_000, allBackends(3), new Set([2]));
    assert.equal(s[2], 0);
    assert.ok(Math.abs((s[0] as number) - 0.5) < 0.02, `share ${s[0]}`);
  });
  test('a candidate subset is drawn by weight (table path)', () => {
    const s = shares(createRandom(backendsOf(1, 1, 3), seeded(5)), 20_000, [1, 2]);
    assert.equal(s[0], 0);
    assert.ok(Math.abs((s[2] as number) - 0.75) < 0.02, `share ${s[2]}`);
  });
  test('a source that keeps drawing excluded backends still ends with an eligible one', () => {
    const b = createRandom(backendsOf(1, 1), () => 0); // always draws backend 0
    assert.equal(b.pick(allBackends(2), ctxOf(null, new Set([0]))), 1);
  });
  test('edges of the cumulative table', () => {
    assert.equal(createRandom(backendsOf(1, 1), () => 0).pick(allBackends(2), ctxOf()), 0);
    assert.equal(createRandom(backendsOf(1, 1), () => 0.999999).pick(allBackends(2), ctxOf()), 1);
    assert.equal(searchCumulative([1, 2, 6], 1), 1);
    assert.equal(searchCumulative([1, 2, 6], 0.5), 0);
    assert.equal(searchCumulative([1, 2, 6], 5.9), 2);
  });
});
