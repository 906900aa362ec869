import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RetryBudgets } from './retry-budget.ts';

test('retries < floor(primaries × ratio/100) + 1, global and per upstream', () => {
  const table: Array<[number, number, number, boolean]> = [
    // primaries, retries already done, ratio, allowed?
    [0, 0, 10, true], // the + 1: one retry even with no traffic
    [0, 1, 10, false],
    [9, 1, 10, false],
    [10, 1, 10, true],
    [10, 2, 10, false],
    [100, 9, 10, true],
    [100, 10, 10, true],
    [100, 11, 10, false],
    [100, 0, 0, true],
    [100, 1, 0, false],
    [100, 100, 100, true],
    [100, 101, 100, false],
  ];
  for (const [primaries, retries, ratio, allowed] of table) {
    const budgets = new RetryBudgets({ enabled: true, ratioPercent: 100 });
    const up = budgets.forUpstream('api', ratio);
    for (let i = 0; i < primaries; i++) budgets.recordPrimary(up, 5000);
    for (let i = 0; i < retries; i++) budgets.recordRetry(up, 5000);
    assert.equal(budgets.canRetry(up, 5000), allowed, `${primaries} primaries, ${retries} retries, ${ratio}%`);
  }
});

test('the global window limits across upstreams; a disabled budget allows all', () => {
  const budgets = new RetryBudgets({ enabled: true, ratioPercent: 10 });
  const a = budgets.forUpstream('a', 100);
  const b = budgets.forUpstream('b', 100);
  for (let i = 0; i < 10; i++) budgets.recordPrimary(a, 0);
  budgets.recordRetry(a, 0);
  budgets.recordRetry(b, 0);
  assert.equal(budgets.canRetry(b, 0), false, 'global: 2 retries ≥ floor(10 × 10%) + 1');
  budgets.enabled = false;
  assert.equal(budgets.canRetry(b, 0), true);
});

test('the window slides: counts older than 10 s are forgotten', () => {
  const budgets = new RetryBudgets({ enabled: true, ratioPercent: 10 });
  const up = budgets.forUpstream('api', 10);
  budgets.recordRetry(up, 1_000);
  assert.equal(budgets.canRetry(up, 1_500), false);
  assert.equal(budgets.canRetry(up, 10_999), false, 'still inside the window');
  assert.equal(budgets.canRetry(up, 11_000), true, 'the 1-s bucket at t=1 s expired');
  for (let i = 0; i < 50; i++) budgets.recordPrimary(up, 20_000 + i * 100);
  budgets.recordRetry(up, 25_000);
  assert.equal(budgets.canRetry(up, 25_000), true, '1 < floor(50 × 10%) + 1');
});

test('retain drops windows of upstreams no longer named', () => {
  const budgets = new RetryBudgets({ enabled: true, ratioPercent: 10 });
  budgets.forUpstream('a', 10);
  budgets.forUpstream('b', 10);
  budgets.retain(new Set(['b']));
  assert.equal(budgets.size, 1);
});
