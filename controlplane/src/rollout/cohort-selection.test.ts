import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cohortScore, type FleetNode, matchesLabels, type StageSelector, selectCohort } from './cohort-selection.ts';

const ids = (n: number, prefix = 'edge-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const plain = (list: readonly string[]): FleetNode[] => list.map((id) => ({ id, labels: {} }));
const percent = (p: number, min_nodes = 1): StageSelector => ({ labels: {}, percent: p, min_nodes });

describe('cohortScore', () => {
  it('is stable across calls and in [0, 1)', () => {
    for (const id of ids(200)) {
      const a = cohortScore('r-1', id);
      assert.equal(cohortScore('r-1', id), a);
      assert.ok(a >= 0 && a < 1);
    }
  });

  it('is salted: another rollout orders the fleet differently', () => {
    const order = (salt: string) => ids(50).sort((a, b) => cohortScore(salt, a) - cohortScore(salt, b));
    assert.notDeepEqual(order('r-1'), order('r-2'));
    assert.deepEqual(order('r-1'), order('r-1'));
  });

  it('is uniform: the share of 10 000 ids under p is p ± 1 %', () => {
    const scores = ids(10_000).map((id) => cohortScore('rollout-42', id));
    for (const p of [0.01, 0.05, 0.1, 0.25, 0.5, 0.75]) {
      const share = scores.filter((s) => s < p).length / scores.length;
      assert.ok(Math.abs(share - p) <= 0.01, `share under ${p} was ${share}`);
    }
  });
});

describe('matchesLabels', () => {
  const node: FleetNode = { id: 'a', labels: { role: 'canary', zone: 'eu-1a' } };
  const cases: ReadonlyArray<[Record<string, string>, boolean]> = [
    [{}, true],
    [{ role: 'canary' }, true],
    [{ role: 'canary', zone: 'eu-1a' }, true],
    [{ role: 'canary', zone: 'eu-1b' }, false],
    [{ role: '' }, false],
    [{ tier: 'x' }, false],
  ];
  for (const [labels, expected] of cases) {
    it(`${JSON.stringify(labels)} → ${expected}`, () => assert.equal(matchesLabels(node, labels), expected));
  }
});

describe('selectCohort', () => {
  const table: ReadonlyArray<{ name: string; fleet: number; stage: StageSelector; wanted: number; short: boolean }> = [
    { name: '25 % of 10 rounds up', fleet: 10, stage: percent(25), wanted: 3, short: false },
    { name: '25 % of 8 is exact', fleet: 8, stage: percent(25), wanted: 2, short: false },
    { name: 'min_nodes lifts a small share', fleet: 10, stage: percent(1, 4), wanted: 4, short: false },
    { name: '100 % is everyone', fleet: 7, stage: percent(100), wanted: 7, short: false },
    { name: 'min_nodes above the fleet is short', fleet: 2, stage: percent(50, 3), wanted: 2, short: true },
    { name: 'an empty fleet is short', fleet: 0, stage: percent(100), wanted: 0, short: true },
  ];
  for (const c of table) {
    it(c.name, () => {
      const plan = selectCohort('r', c.stage, plain(ids(c.fleet)), []);
      assert.equal(plan.wanted, c.wanted);
      assert.equal(plan.added.length, c.wanted);
      assert.equal(plan.short, c.short);
    });
  }

  it('selects exactly the share of 10 000 nodes, the lowest scores', () => {
    const fleet = plain(ids(10_000));
    const plan = selectCohort('r-7', percent(25), fleet, []);
    assert.equal(plan.added.length, 2_500);
    const cut = Math.max(...plan.added.map((id) => cohortScore('r-7', id)));
    const below = fleet.filter((n) => cohortScore('r-7', n.id) <= cut).length;
    assert.equal(below, 2_500);
  });

  it('is monotonic across stages: every node of a stage stays in every later stage', () => {
    const fleet = plain(ids(1_000));
    let admitted: readonly string[] = [];
    const seen: string[][] = [];
    for (const p of [1, 5, 25, 50, 100]) {
      const plan = selectCohort('r-9', percent(p), fleet, admitted);
      for (const earlier of seen) for (const id of earlier) assert.ok(plan.cohort.includes(id));
      assert.equal(plan.cohort.length, Math.ceil((p / 100) * 1_000));
      seen.push([...plan.cohort]);
      admitted = plan.cohort;
    }
  });

  it('a percent stage picks a superset of a smaller percent even without carrying `admitted`', () => {
    const fleet = plain(ids(500));
    const small = selectCohort('r', percent(10), fleet, []).added;
    const large = new Set(selectCohort('r', percent(30), fleet, []).added);
    for (const id of small) assert.ok(large.has(id));
  });

  it('re-selection of the same rollout over the same fleet picks the same nodes (order of the list does not matter)', () => {
    const fleet = plain(ids(300));
    const a = selectCohort('r-1', percent(20), fleet, []).added;
    const b = selectCohort('r-1', percent(20), [...fleet].reverse(), []).added;
    assert.deepEqual(a, b);
  });

  it('label stages select among matching nodes; admitted canaries count toward the next share', () => {
    const fleet: FleetNode[] = [
      ...ids(2, 'canary-').map((id) => ({ id, labels: { role: 'canary' } })),
      ...plain(ids(18)),
    ];
    const canary = selectCohort('r', { labels: { role: 'canary' }, percent: 100, min_nodes: 1 }, fleet, []);
    assert.deepEqual([...canary.added].sort(), ['canary-0', 'canary-1']);
    assert.equal(canary.eligible, 2);
    const quarter = selectCohort('r', percent(25), fleet, canary.cohort);
    assert.equal(quarter.wanted, 5);
    assert.equal(quarter.added.length, 3, 'two canaries already count toward the five');
    assert.deepEqual(quarter.cohort.slice(0, 2), canary.cohort);
  });

  it('a label stage with no matching node is short', () => {
    const plan = selectCohort('r', { labels: { role: 'canary' }, percent: 100, min_nodes: 1 }, plain(ids(5)), []);
    assert.deepEqual(plan.added, []);
    assert.equal(plan.short, true);
  });

  it('nodes that joined after an earlier stage are only added up to the share; admitted nodes are never dropped', () => {
    const first = selectCohort('r', percent(50), plain(ids(4)), []);
    assert.equal(first.cohort.length, 2);
    const grown = plain(ids(10));
    const again = selectCohort('r', percent(50), grown, first.cohort);
    assert.equal(again.cohort.length, 5);
    for (const id of first.cohort) assert.ok(again.cohort.includes(id));
  });

  it('a node id reported twice counts once', () => {
    const fleet = plain(['a', 'a', 'b']);
    assert.equal(selectCohort('r', percent(100), fleet, []).added.length, 2);
  });
});
