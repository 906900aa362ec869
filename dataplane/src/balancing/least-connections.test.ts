import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allBackends } from './candidates.ts';
import { createLeastConnections } from './least-connections.ts';
import { backendsOf, ctxOf, statsFor } from './testing/balancer-fixtures.ts';

function withActive(weights: number[], active: number[]) {
  const stats = statsFor(weights.length);
  active.forEach((a, i) => {
    for (let k = 0; k < a; k++) stats[i]?.begin();
  });
  return { lc: createLeastConnections(backendsOf(...weights), stats), stats };
}

describe('least-connections', () => {
  test('fewest active requests wins', () => {
    assert.equal(withActive([1, 1, 1], [3, 1, 2]).lc.pick(allBackends(3), ctxOf()), 1);
  });
  test('ties go to the lowest index', () => {
    assert.equal(withActive([1, 1, 1], [2, 1, 1]).lc.pick(allBackends(3), ctxOf()), 1);
    assert.equal(withActive([1, 1, 1], [0, 0, 0]).lc.pick([2, 1], ctxOf()), 1);
  });
  test('weighted: active ÷ weight', () => {
    // 4/1 = 4 vs 6/3 = 2 → backend 1 despite more active requests
    assert.equal(withActive([1, 3], [4, 6]).lc.pick(allBackends(2), ctxOf()), 1);
    // 2/1 = 2 vs 6/3 = 2 → tie → lowest index
    assert.equal(withActive([1, 3], [2, 6]).lc.pick(allBackends(2), ctxOf()), 0);
  });
  test('finished requests free capacity', () => {
    const { lc, stats } = withActive([1, 1], [2, 1]);
    assert.equal(lc.pick(allBackends(2), ctxOf()), 1);
    stats[0]?.end();
    stats[0]?.end();
    assert.equal(lc.pick(allBackends(2), ctxOf()), 0);
    stats[0]?.end(); // never below zero
    assert.equal(stats[0]?.active, 0);
  });
  test('excluded and non-candidate backends are skipped even when idlest', () => {
    const { lc } = withActive([1, 1, 1], [0, 5, 9]);
    assert.equal(lc.pick(allBackends(3), ctxOf(null, new Set([0]))), 1);
    assert.equal(lc.pick([2], ctxOf()), 2);
  });
});
