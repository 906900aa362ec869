import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, MAX_STAGES, parseRolloutPolicy } from './rollout-policy.ts';

/** The issues of an invalid document as "pointer code" lines, in report order. */
function issuesOf(input: unknown): string[] {
  const result = parseRolloutPolicy(input);
  assert.equal(result.ok, false, 'expected the policy to be refused');
  return result.ok ? [] : result.issues.map((i) => `${i.pointer} ${i.code}`);
}

const fleet = { name: 'fleet', percent: 100 };

describe('parseRolloutPolicy: defaults', () => {
  it('an empty document is the default policy', () => {
    assert.deepEqual(parseRolloutPolicy({}), { ok: true, policy: DEFAULT_ROLLOUT_POLICY });
  });

  it('default_strategy is normalised to staged, and immediate is kept', () => {
    const staged = parseRolloutPolicy({});
    const immediate = parseRolloutPolicy({ default_strategy: 'immediate' });
    assert.ok(staged.ok && immediate.ok);
    assert.equal(staged.policy.default_strategy, 'staged');
    assert.equal(immediate.policy.default_strategy, 'immediate');
  });

  it('fills every absent member of a stage, the gates and the canary', () => {
    const result = parseRolloutPolicy({ stages: [{}], gates: { health: { p99: { max_factor: 2 } } } });
    assert.ok(result.ok);
    assert.deepEqual(result.policy.stages, [{ name: 'stage-1', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 }]);
    assert.equal(result.policy.gates.health.p99.max_factor, 2);
    assert.equal(result.policy.gates.health.p99.min_increase_ms, GATE_DEFAULTS.health.p99.min_increase_ms);
    assert.deepEqual(result.policy.gates.health.local_5xx, GATE_DEFAULTS.health.local_5xx);
    assert.equal(result.policy.canary.percent, 5);
  });

  it('a soak over the whole fleet is fine with the in-node canary on (its serving share is the baseline)', () => {
    assert.equal(parseRolloutPolicy({ stages: [{ soak_ms: 60_000 }], canary: { percent: 2 } }).ok, true);
  });

  it('keeps a full document as written', () => {
    const doc = {
      version: 1,
      stages: [
        { name: 'canary', labels: { role: 'canary', 'topology.kubernetes.io/zone': 'eu-1a' }, min_nodes: 2, soak_ms: 60_000 },
        { name: 'half', percent: 50, soak_ms: 120_000 },
        fleet,
      ],
      gates: { ack_quorum: 1, ack_timeout_ms: 30_000, nack_budget: 1 },
      canary: { percent: 0, crash_window_ms: 0 },
      freeze_after: 3,
      resume_grace_ms: 0,
    };
    const result = parseRolloutPolicy(doc);
    assert.ok(result.ok);
    assert.equal(result.policy.stages[0]?.labels['topology.kubernetes.io/zone'], 'eu-1a');
    assert.equal(result.policy.stages[0]?.min_nodes, 2);
    assert.equal(result.policy.gates.nack_budget, 1);
    assert.equal(result.policy.canary.percent, 0);
    assert.equal(result.policy.freeze_after, 3);
  });
});

describe('parseRolloutPolicy: issues carry JSON Pointers and stable codes', () => {
  const cases: ReadonlyArray<{ name: string; input: unknown; issues: string[] }> = [
    { name: 'not an object', input: [], issues: [' rollout.type'] },
    { name: 'null', input: null, issues: [' rollout.type'] },
    { name: 'unknown top-level key', input: { stage: [] }, issues: ['/stage rollout.unknown_key'] },
    { name: 'unknown version', input: { version: 2 }, issues: ['/version rollout.range'] },
    { name: 'unknown default strategy', input: { default_strategy: 'yolo' }, issues: ['/default_strategy rollout.pattern'] },
    { name: 'default strategy not a string', input: { default_strategy: 1 }, issues: ['/default_strategy rollout.type'] },
    { name: 'stages not an array', input: { stages: {} }, issues: ['/stages rollout.type'] },
    { name: 'no stages', input: { stages: [] }, issues: ['/stages rollout.stages.count'] },
    {
      name: 'too many stages',
      input: { stages: Array.from({ length: MAX_STAGES + 1 }, () => ({})) },
      issues: ['/stages rollout.stages.count'],
    },
    { name: 'unknown stage key', input: { stages: [{ soak: '5m' }] }, issues: ['/stages/0/soak rollout.unknown_key'] },
    { name: 'percent 0', input: { stages: [{ percent: 0 }] }, issues: ['/stages/0/percent rollout.range'] },
    { name: 'percent above 100', input: { stages: [{ percent: 101 }] }, issues: ['/stages/0/percent rollout.range'] },
    { name: 'percent as a string', input: { stages: [{ percent: '25%' }] }, issues: ['/stages/0/percent rollout.type'] },
    { name: 'fractional min_nodes', input: { stages: [{ min_nodes: 1.5 }] }, issues: ['/stages/0/min_nodes rollout.type'] },
    { name: 'min_nodes 0', input: { stages: [{ min_nodes: 0 }] }, issues: ['/stages/0/min_nodes rollout.range'] },
    { name: 'negative soak', input: { stages: [{ soak_ms: -1 }] }, issues: ['/stages/0/soak_ms rollout.range'] },
    { name: 'soak above a day', input: { stages: [{ soak_ms: 86_400_001 }] }, issues: ['/stages/0/soak_ms rollout.range'] },
    { name: 'bad stage name', input: { stages: [{ name: 'Canary 1' }] }, issues: ['/stages/0/name rollout.pattern'] },
    {
      name: 'duplicate stage names',
      input: { stages: [{ name: 'a', percent: 10 }, { name: 'a' }] },
      issues: ['/stages/1/name rollout.stage.duplicate'],
    },
    {
      name: 'labels not an object',
      input: { stages: [{ labels: ['role=canary'] }, fleet] },
      issues: ['/stages/0/labels rollout.type'],
    },
    {
      name: 'label value not a string (pointer escapes "/")',
      input: { stages: [{ labels: { 'a/b': 1 } }, fleet] },
      issues: ['/stages/0/labels/a~1b rollout.stage.label_value'],
    },
    { name: 'bad label key', input: { stages: [{ labels: { '-x': 'y' } }, fleet] }, issues: ['/stages/0/labels/-x rollout.stage.label_key'] },
    {
      name: 'shrinking percent stages',
      input: { stages: [{ name: 'a', percent: 50 }, { name: 'b', percent: 25 }, fleet] },
      issues: ['/stages/1/percent rollout.stage.percent_decreasing'],
    },
    {
      name: 'last stage not the whole fleet (percent)',
      input: { stages: [{ percent: 50 }] },
      issues: ['/stages/0 rollout.stage.last_not_fleet'],
    },
    {
      name: 'last stage not the whole fleet (labels)',
      input: { stages: [{ labels: { role: 'canary' } }] },
      issues: ['/stages/0 rollout.stage.last_not_fleet'],
    },
    { name: 'ack quorum 0', input: { gates: { ack_quorum: 0 } }, issues: ['/gates/ack_quorum rollout.range'] },
    { name: 'ack timeout below 1 s', input: { gates: { ack_timeout_ms: 999 } }, issues: ['/gates/ack_timeout_ms rollout.range'] },
    { name: 'negative NACK budget', input: { gates: { nack_budget: -1 } }, issues: ['/gates/nack_budget rollout.range'] },
    { name: 'unknown gate key', input: { gates: { quorum: 1 } }, issues: ['/gates/quorum rollout.unknown_key'] },
    {
      name: 'ratio above 1',
      input: { gates: { health: { local_5xx: { max_ratio: 2 } } } },
      issues: ['/gates/health/local_5xx/max_ratio rollout.range'],
    },
    {
      name: 'latency factor below 1',
      input: { gates: { health: { p99: { max_factor: 0.5 } } } },
      issues: ['/gates/health/p99/max_factor rollout.range'],
    },
    { name: 'min_requests 0', input: { gates: { health: { min_requests: 0 } } }, issues: ['/gates/health/min_requests rollout.range'] },
    { name: 'health null', input: { gates: { health: null } }, issues: ['/gates/health rollout.type'] },
    { name: 'canary above 50 %', input: { canary: { percent: 60 } }, issues: ['/canary/percent rollout.range'] },
    { name: 'freeze_after 0', input: { freeze_after: 0 }, issues: ['/freeze_after rollout.range'] },
    {
      name: 'a soak over the whole fleet without the in-node canary has no baseline',
      input: { stages: [{ name: 'a', percent: 10, soak_ms: 1 }, { name: 'b', soak_ms: 60_000 }], canary: { percent: 0 } },
      issues: ['/stages/1/soak_ms rollout.stage.no_baseline'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(issuesOf(c.input), c.issues));
  }

  it('reports every problem of a document in one pass', () => {
    const issues = issuesOf({ extra: 1, stages: [{ percent: 0 }, { soak_ms: 'x' }], gates: { nack_budget: 0.5 } });
    assert.deepEqual(issues, [
      '/extra rollout.unknown_key',
      '/stages/0/percent rollout.range',
      '/stages/1/soak_ms rollout.type',
      '/gates/nack_budget rollout.type',
    ]);
  });
});
