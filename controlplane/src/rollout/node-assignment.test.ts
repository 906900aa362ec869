import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canarySpec, MIN_NODE_REQUESTS, nodeAssignment } from './node-assignment.ts';
import { reduce } from './rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, type RolloutPolicy } from './rollout-policy.ts';
import type { RolloutState } from './rollout-state.ts';

const POLICY: RolloutPolicy = {
  ...DEFAULT_ROLLOUT_POLICY,
  stages: [
    { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: 1, soak_ms: 1000 },
    { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
  ],
};

/** A live rollout in stage 1 whose stage 0 added c1 and stage 1 added n1 (n2 joined later). */
function stateOf(over: Partial<RolloutState> = {}, policy: RolloutPolicy = POLICY): RolloutState {
  const started = reduce(null, {
    type: 'start',
    nowMs: 0,
    id: 'ro_t',
    scope: 's',
    targetSeq: 9,
    lkgSeq: 8,
    policy,
    fleet: [{ id: 'c1', labels: { role: 'canary' } }],
    streakBefore: 0,
    actor: 't',
  }).state;
  return {
    ...started,
    cohort: ['c1', 'n1'],
    stage: { ...started.stage, index: 1, added: ['n1'], selected: 2 },
    ...over,
  };
}

const NO_CANARY: RolloutPolicy = { ...POLICY, canary: { ...POLICY.canary, percent: 0 } };

describe('nodeAssignment: derived from the rollout state only', () => {
  const spec = canarySpec(POLICY, 1);
  const cases: ReadonlyArray<{ name: string; state: RolloutState; node: string; want: unknown }> = [
    { name: 'current stage, canary on → candidate', state: stateOf(), node: 'n1', want: { kind: 'candidate', seq: 9, canary: spec } },
    { name: 'earlier stage → serve', state: stateOf(), node: 'c1', want: { kind: 'serve', seq: 9 } },
    { name: 'not in the cohort → null', state: stateOf(), node: 'n2', want: null },
    { name: 'canary off, current stage → serve', state: stateOf({}, NO_CANARY), node: 'n1', want: { kind: 'serve', seq: 9 } },
    { name: 'paused is live → candidate', state: stateOf({ status: 'paused' }), node: 'n1', want: { kind: 'candidate', seq: 9, canary: spec } },
    { name: 'rolled back → null (follows the LKG)', state: stateOf({ status: 'rolled_back' }), node: 'n1', want: null },
    { name: 'aborted → null', state: stateOf({ status: 'aborted' }), node: 'c1', want: null },
    { name: 'promoted, before activation → serve', state: stateOf({ status: 'promoted' }), node: 'n1', want: { kind: 'serve', seq: 9 } },
    { name: 'promoted, not in the cohort → null', state: stateOf({ status: 'promoted' }), node: 'n2', want: null },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(nodeAssignment(c.state, c.node), c.want));
});

describe('canarySpec: the local thresholds from the policy', () => {
  it('sums the local and upstream 5xx rules and keeps the p99 rule', () => {
    const h = GATE_DEFAULTS.health;
    const s = canarySpec(DEFAULT_ROLLOUT_POLICY, 1);
    assert.equal(s.percent, DEFAULT_ROLLOUT_POLICY.canary.percent);
    assert.equal(s.crashWindowMs, DEFAULT_ROLLOUT_POLICY.canary.crash_window_ms);
    assert.ok(Math.abs(s.maxErrorRatio - (h.local_5xx.max_ratio + h.upstream_5xx.max_ratio)) < 1e-12);
    assert.ok(Math.abs(s.maxErrorIncrease - (h.local_5xx.max_increase + h.upstream_5xx.max_increase)) < 1e-12);
    assert.equal(s.maxP99Factor, h.p99.max_factor);
    assert.equal(s.minP99IncreaseMs, h.p99.min_increase_ms);
  });

  const rows: ReadonlyArray<[minRequests: number, stageNodes: number, want: number]> = [
    [200, 1, 200],
    [200, 4, 50],
    [200, 100, MIN_NODE_REQUESTS],
    [10, 1, 10],
    [10, 5, 10],
    [201, 2, 101],
    [200, 0, 200],
  ];
  for (const [minRequests, stageNodes, want] of rows) {
    it(`minRequests of ${minRequests} over ${stageNodes} node(s) is ${want}`, () => {
      const policy = { ...POLICY, gates: { ...POLICY.gates, health: { ...POLICY.gates.health, min_requests: minRequests } } };
      assert.equal(canarySpec(policy, stageNodes).minRequests, want);
    });
  }
});
