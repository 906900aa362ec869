import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Balancer } from './balancer.ts';
import { greatestCommonDivisor } from './balancer.ts';
import { allBackends } from './candidates.ts';
import { createRoundRobin, createRoundRobinState } from './round-robin.ts';
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
