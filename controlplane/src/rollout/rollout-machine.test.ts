import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetNode } from './cohort-selection.ts';
import type { NodeFacts } from './gate-evaluation.ts';
import type { HealthWindow } from './health-gate.ts';
import { isFinished, reduce } from './rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, type RolloutPolicy } from './rollout-policy.ts';
import type { RolloutEffect, RolloutState, Step } from './rollout-state.ts';

const T0 = 1_000_000;
const TARGET = 8;
const LKG = 7;
const SOAK = 60_000;
const ACK_TIMEOUT = 30_000;

const POLICY: RolloutPolicy = {
  ...DEFAULT_ROLLOUT_POLICY,
  stages: [
    { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: 1, soak_ms: SOAK },
    { name: 'half', labels: {}, percent: 50, min_nodes: 1, soak_ms: SOAK },
    { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
  ],
  gates: { ...GATE_DEFAULTS, ack_timeout_ms: ACK_TIMEOUT, health: { ...GATE_DEFAULTS.health, min_requests: 50 } },
};

/** One canary node and ten plain ones. */
const FLEET: FleetNode[] = [{ id: 'c1', labels: { role: 'canary' } }, ...Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, labels: {} }))];

function win(seq: number, fromMs: number, local5xx = 0): HealthWindow {
  return { seq, fromMs, toMs: fromMs + 10_000, requests: 100, local5xx, upstream5xx: 0, latency: { boundsMs: [10, 100], counts: [100, 0, 0] } };
}

interface FactOptions {
  readonly nack?: readonly string[];
  readonly silent?: readonly string[];
  readonly local5xx?: number;
  readonly fleet?: readonly FleetNode[];
  /** The nodes answer but send no health window. */
  readonly noWindows?: boolean;
}

/** Facts of the fleet for `s`: cohort nodes ACK 1 s after the stage started, every node reports healthy windows after that. */
function factsFor(s: RolloutState, o: FactOptions = {}): NodeFacts[] {
  const cohort = new Set(s.cohort);
  const ackAt = s.stage.startedAtMs + 1_000;
  const facts = (o.fleet ?? FLEET).map((n): NodeFacts => {
    if (!cohort.has(n.id)) return { id: n.id, answer: { kind: 'none' }, windows: [win(LKG, ackAt + 1)] };
    const answer = o.nack?.includes(n.id)
      ? ({ kind: 'nack', atMs: ackAt } as const)
      : o.silent?.includes(n.id)
        ? ({ kind: 'none' } as const)
        : ({ kind: 'ack', atMs: ackAt } as const);
    return { id: n.id, answer, windows: [win(TARGET, ackAt + 1, o.local5xx ?? 0), win(LKG, ackAt + 1)] };
  });
  return o.noWindows === true ? facts.map((f) => ({ ...f, windows: [] })) : facts;
}

function begin(over: { streakBefore?: number; policy?: RolloutPolicy; fleet?: FleetNode[] } = {}): Step {
  return reduce(null, {
    type: 'start',
    nowMs: T0,
    id: 'r-1',
    scope: 'prod',
    targetSeq: TARGET,
    lkgSeq: LKG,
    policy: over.policy ?? POLICY,
    fleet: over.fleet ?? FLEET,
    streakBefore: over.streakBefore ?? 0,
    actor: 'ci',
  });
}

const tick = (s: RolloutState, nowMs: number, o: FactOptions = {}): Step =>
  reduce(s, { type: 'tick', nowMs, fleet: o.fleet ?? FLEET, facts: factsFor(s, o) });
/** The time at which the current stage's soak is over (ACKs 1 s after its start). */
const soakOver = (s: RolloutState): number => s.stage.startedAtMs + 1_000 + (s.policy.stages[s.stage.index]?.soak_ms ?? 0);
const kinds = (s: RolloutState): string[] => s.log.map((d) => `${d.stage}:${d.kind}`);
const ofType = <T extends RolloutEffect['type']>(step: Step, type: T) =>
  step.effects.filter((e): e is Extract<RolloutEffect, { type: T }> => e.type === type);
/** The state as the store gives it back after a restart. */
const persisted = (s: RolloutState): RolloutState => JSON.parse(JSON.stringify(s));

describe('rollout machine: the happy path', () => {
  it('start pushes the first stage to its cohort with the in-node canary share and logs it', () => {
    const step = begin();
    assert.equal(step.state.status, 'running');
    assert.equal(step.state.stage.index, 0);
    assert.deepEqual(step.state.stage.added, ['c1']);
    assert.deepEqual(ofType(step, 'push-candidate'), [{ type: 'push-candidate', nodes: ['c1'], seq: TARGET, canaryPercent: 5 }]);
    assert.deepEqual(ofType(step, 'wake-at'), [{ type: 'wake-at', atMs: T0 + ACK_TIMEOUT }]);
    assert.deepEqual(kinds(step.state), ['0:started', '0:stage_started']);
    assert.equal(ofType(step, 'emit').length, 2, 'every decision is emitted');
  });

  it('waits for ACKs, then for the soak, logging nothing while it waits', () => {
    const s0 = begin().state;
    const beforeAcks = tick(s0, T0 + 500, { silent: ['c1'] });
    assert.deepEqual(beforeAcks.effects, [{ type: 'wake-at', atMs: T0 + ACK_TIMEOUT }]);
    const soaking = tick(s0, T0 + 10_000);
    assert.deepEqual(soaking.effects, [{ type: 'wake-at', atMs: soakOver(s0) }]);
    assert.equal(soaking.state.log.length, s0.log.length);
    assert.equal(soaking.state.lastEvaluation?.kind, 'wait');
  });

  it('a passed stage promotes its nodes and starts the next stage, and nothing more', () => {
    const s0 = begin().state;
    const step = tick(s0, soakOver(s0));
    assert.equal(step.state.stage.index, 1);
    assert.deepEqual(ofType(step, 'promote-nodes'), [{ type: 'promote-nodes', nodes: ['c1'], seq: TARGET }]);
    // 50 % of 11 nodes is 6; the canary counts, so 5 are added.
    assert.equal(step.state.stage.added.length, 5);
    assert.equal(step.state.cohort.length, 6);
    assert.equal(step.state.cohort[0], 'c1');
    assert.deepEqual(ofType(step, 'push-candidate')[0]?.nodes, step.state.stage.added);
    assert.deepEqual(kinds(step.state).slice(2), ['0:stage_passed', '1:stage_started']);
  });

  it('runs every stage once, in order, activates the target and resets the rollback streak', () => {
    let s = begin().state;
    const effects: RolloutEffect[] = [];
    for (let i = 0; i < 3; i++) {
      const step = tick(s, soakOver(s));
      effects.push(...step.effects);
      s = step.state;
    }
    assert.equal(s.status, 'promoted');
    assert.equal(isFinished(s), true);
    assert.equal(s.cohort.length, 11);
    assert.deepEqual(kinds(s), [
      '0:started',
      '0:stage_started',
      '0:stage_passed',
      '1:stage_started',
      '1:stage_passed',
      '2:stage_started',
      '2:stage_passed',
      '2:completed',
    ]);
    assert.ok(effects.some((e) => e.type === 'activate' && e.seq === TARGET));
    assert.ok(effects.some((e) => e.type === 'set-rollback-streak' && e.count === 0));
    assert.ok(!effects.some((e) => e.type === 'rollback-nodes' || e.type === 'mark-failed'));
  });

  it('one observation moves at most one stage, even when every later stage could pass at once', () => {
    const policy: RolloutPolicy = { ...POLICY, stages: POLICY.stages.map((st) => ({ ...st, soak_ms: 0 })) };
    let s = begin({ policy }).state;
    const far = T0 + 10_000_000;
    for (const expected of [1, 2]) {
      s = tick(s, far).state;
      assert.equal(s.stage.index, expected);
    }
    s = tick(s, far).state;
    assert.equal(s.status, 'promoted');
  });

  it('with the in-node canary off, nodes are pushed to serve (share 0) and never "promoted"', () => {
    const step = begin({ policy: { ...POLICY, canary: { ...POLICY.canary, percent: 0 } } });
    assert.equal(ofType(step, 'push-candidate')[0]?.canaryPercent, 0);
    assert.deepEqual(ofType(tick(step.state, soakOver(step.state)), 'promote-nodes'), []);
  });
});

describe('rollout machine: failed gates and the freeze rule', () => {
  const table: ReadonlyArray<{ name: string; at: (s: RolloutState) => number; o: FactOptions; rule: string }> = [
    { name: 'a NACK', at: () => T0 + 2_000, o: { nack: ['c1'] }, rule: 'nack.budget' },
    { name: 'a wedged node after the ACK deadline', at: () => T0 + ACK_TIMEOUT, o: { silent: ['c1'] }, rule: 'ack.quorum' },
    { name: 'a 5xx regression during the soak', at: () => T0 + 10_000, o: { local5xx: 20 }, rule: 'health.local_5xx.ratio' },
    { name: 'no health data at the end of the soak', at: soakOver, o: { noWindows: true }, rule: 'health.samples' },
  ];
  for (const c of table) {
    it(`${c.name} rolls the cohort back to the LKG, marks the target failed and records the numbers`, () => {
      const s0 = begin().state;
      const step = tick(s0, c.at(s0), c.o);
      assert.equal(step.state.status, 'rolled_back');
      assert.deepEqual(ofType(step, 'rollback-nodes'), [{ type: 'rollback-nodes', nodes: ['c1'], toSeq: LKG }]);
      assert.deepEqual(ofType(step, 'mark-failed'), [{ type: 'mark-failed', seq: TARGET, rule: c.rule }]);
      assert.deepEqual(ofType(step, 'set-rollback-streak'), [{ type: 'set-rollback-streak', scope: 'prod', count: 1 }]);
      assert.deepEqual(ofType(step, 'freeze-scope'), [], 'one automatic rollback does not freeze');
      const failed = step.state.log.find((d) => d.kind === 'gate_failed');
      assert.equal(failed?.failures?.[0]?.rule, c.rule);
      assert.ok(failed?.numbers !== undefined, 'the numbers behind the verdict are logged');
      assert.deepEqual(kinds(step.state).slice(-2), ['0:gate_failed', '0:rolled_back']);
    });
  }

  it('a rollback in a later stage rolls back the whole cohort, earlier stages included', () => {
    let s = begin().state;
    s = tick(s, soakOver(s)).state;
    const step = tick(s, s.stage.startedAtMs + 2_000, { nack: [s.stage.added[0]!] });
    assert.deepEqual(ofType(step, 'rollback-nodes')[0]?.nodes, s.cohort);
    assert.equal(ofType(step, 'rollback-nodes')[0]?.nodes.length, 6);
  });

  it('two automatic rollbacks in a row freeze the scope', () => {
    const step = tick(begin({ streakBefore: 1 }).state, T0 + 2_000, { nack: ['c1'] });
    assert.deepEqual(ofType(step, 'set-rollback-streak'), [{ type: 'set-rollback-streak', scope: 'prod', count: 2 }]);
    assert.equal(ofType(step, 'freeze-scope').length, 1);
    assert.match(ofType(step, 'freeze-scope')[0]!.reason, /2 automatic rollbacks in a row .*nack\.budget/);
    assert.equal(step.state.log.at(-1)?.kind, 'frozen');
  });

  it('across rollouts: rollback, abort (no count), rollback freezes; a promoted rollout in between resets the streak', () => {
    /** Runs one rollout to its end as the shell would, carrying the scope's streak; returns whether it froze. */
    const run = (streak: { count: number }, outcome: 'rollback' | 'abort' | 'promote'): boolean => {
      let step = begin({ streakBefore: streak.count });
      if (outcome === 'rollback') step = tick(step.state, T0 + 2_000, { nack: ['c1'] });
      if (outcome === 'abort') step = reduce(step.state, { type: 'abort', nowMs: T0 + 1, actor: 'op' });
      while (outcome === 'promote' && !isFinished(step.state)) step = tick(step.state, soakOver(step.state));
      for (const e of ofType(step, 'set-rollback-streak')) streak.count = e.count;
      return ofType(step, 'freeze-scope').length > 0;
    };
    const a = { count: 0 };
    assert.deepEqual([run(a, 'rollback'), run(a, 'abort'), run(a, 'rollback')], [false, false, true]);
    const b = { count: 0 };
    assert.deepEqual([run(b, 'rollback'), run(b, 'promote'), run(b, 'rollback')], [false, false, false]);
    assert.equal(b.count, 1);
  });

  it('freeze_after 3 tolerates a second rollback', () => {
    const step = tick(begin({ streakBefore: 1, policy: { ...POLICY, freeze_after: 3 } }).state, T0 + 2_000, { nack: ['c1'] });
    assert.deepEqual(ofType(step, 'freeze-scope'), []);
  });

  it('a short first stage grows while nodes join before the deadline, and fails cohort.min_nodes after it', () => {
    const plain = FLEET.slice(1);
    const s0 = begin({ fleet: plain }).state;
    assert.deepEqual(s0.stage.added, []);
    const grown = tick(s0, T0 + 5_000, { fleet: FLEET });
    assert.deepEqual(grown.state.stage.added, ['c1']);
    assert.deepEqual(ofType(grown, 'push-candidate')[0]?.nodes, ['c1']);
    assert.ok(kinds(grown.state).includes('0:cohort_grown'));
    const failed = tick(s0, T0 + ACK_TIMEOUT, { fleet: plain });
    assert.equal(failed.state.status, 'rolled_back');
    assert.deepEqual(ofType(failed, 'rollback-nodes'), [], 'nothing was pushed, so nothing is rolled back');
    assert.equal(ofType(failed, 'mark-failed')[0]?.rule, 'cohort.min_nodes');
  });
});

describe('rollout machine: operator controls', () => {
  it('pause holds a passed stage; resume lets the next observation advance', () => {
    const s0 = begin().state;
    const paused = reduce(s0, { type: 'pause', nowMs: T0 + 5_000, actor: 'op' });
    assert.equal(paused.state.status, 'paused');
    const held = tick(paused.state, soakOver(s0));
    assert.equal(held.state.stage.index, 0);
    assert.equal(held.state.lastEvaluation?.kind, 'pass');
    assert.deepEqual(held.effects, []);
    const resumed = reduce(held.state, { type: 'resume', nowMs: soakOver(s0) + 1, actor: 'op' });
    assert.equal(resumed.state.status, 'running');
    assert.deepEqual(ofType(resumed, 'wake-at'), [{ type: 'wake-at', atMs: soakOver(s0) + 1 }]);
    assert.equal(tick(resumed.state, soakOver(s0) + 2).state.stage.index, 1);
  });

  it('safety is never paused: a failed gate rolls back a paused rollout', () => {
    const paused = reduce(begin().state, { type: 'pause', nowMs: T0 + 1, actor: 'op' }).state;
    assert.equal(tick(paused, T0 + 2_000, { nack: ['c1'] }).state.status, 'rolled_back');
  });

  it('promote skips the soak of the current stage only', () => {
    const s0 = begin().state;
    const promoted = reduce(s0, { type: 'promote', nowMs: T0 + 2_000, actor: 'op', reason: 'hotfix' });
    assert.equal(promoted.state.log.at(-1)?.kind, 'promoted_by_operator');
    assert.equal(promoted.state.log.at(-1)?.reason, 'hotfix');
    const next = tick(promoted.state, T0 + 2_001);
    assert.equal(next.state.stage.index, 1);
    assert.equal(next.state.stage.promoted, false, 'the next stage soaks again');
    assert.equal(tick(next.state, next.state.stage.startedAtMs + 5_000).state.stage.index, 1);
  });

  it('abort rolls the cohort back without marking the target failed or counting towards the freeze', () => {
    let s = begin({ streakBefore: 1 }).state;
    s = tick(s, soakOver(s)).state;
    const step = reduce(s, { type: 'abort', nowMs: s.stage.startedAtMs + 1, actor: 'op', reason: 'wrong change' });
    assert.equal(step.state.status, 'aborted');
    assert.deepEqual(ofType(step, 'rollback-nodes'), [{ type: 'rollback-nodes', nodes: s.cohort, toSeq: LKG }]);
    for (const t of ['mark-failed', 'set-rollback-streak', 'freeze-scope'] as const) assert.deepEqual(ofType(step, t), []);
    assert.equal(step.state.log.at(-1)?.actor, 'op');
  });

  const refusals: ReadonlyArray<{ name: string; state: () => RolloutState; type: 'pause' | 'resume' | 'promote' | 'abort'; refused: string }> = [
    { name: 'pause while paused', state: () => reduce(begin().state, { type: 'pause', nowMs: T0, actor: 'op' }).state, type: 'pause', refused: 'not_running' },
    { name: 'resume while running', state: () => begin().state, type: 'resume', refused: 'not_paused' },
    { name: 'promote when finished', state: () => tick(begin().state, T0 + 2_000, { nack: ['c1'] }).state, type: 'promote', refused: 'finished' },
    { name: 'abort when finished', state: () => reduce(begin().state, { type: 'abort', nowMs: T0, actor: 'op' }).state, type: 'abort', refused: 'finished' },
    { name: 'pause when finished', state: () => reduce(begin().state, { type: 'abort', nowMs: T0, actor: 'op' }).state, type: 'pause', refused: 'finished' },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} and changes nothing`, () => {
      const state = c.state();
      const step = reduce(state, { type: c.type, nowMs: T0 + 9, actor: 'op' });
      assert.equal(step.refused, c.refused);
      assert.equal(step.state, state);
      assert.deepEqual(step.effects, []);
    });
  }

  it('a finished rollout ignores observations and restarts', () => {
    const done = tick(begin().state, T0 + 2_000, { nack: ['c1'] }).state;
    for (const step of [tick(done, T0 + 999_999), reduce(done, { type: 'restart', nowMs: T0 + 999_999 })]) {
      assert.equal(step.state, done);
      assert.deepEqual(step.effects, []);
      assert.equal(step.refused, null);
    }
  });

  it('misuse by the shell throws', () => {
    assert.throws(() => reduce(null, { type: 'tick', nowMs: 0, fleet: [], facts: [] }), /before start/);
    const s = begin().state;
    assert.throws(
      () => reduce(s, { type: 'start', nowMs: 0, id: 'x', scope: 's', targetSeq: 1, lkgSeq: 0, policy: POLICY, fleet: [], streakBefore: 0, actor: 'a' }),
      /already started/,
    );
  });
});

describe('rollout machine: restart mid-rollout', () => {
  it('resumes in the same stage, with the same cohort and start, re-asserting desired state; no stage skipped or repeated', () => {
    let s = begin().state;
    s = tick(s, soakOver(s)).state;
    s = tick(s, s.stage.startedAtMs + 20_000).state;
    assert.equal(s.stage.index, 1);
    const restartAt = s.stage.startedAtMs + 25_000;
    const resumed = reduce(persisted(s), { type: 'restart', nowMs: restartAt });
    assert.equal(resumed.state.stage.index, 1);
    assert.equal(resumed.state.stage.startedAtMs, s.stage.startedAtMs);
    assert.deepEqual(resumed.state.cohort, s.cohort);
    assert.deepEqual(ofType(resumed, 'promote-nodes'), [{ type: 'promote-nodes', nodes: ['c1'], seq: TARGET }]);
    assert.deepEqual(ofType(resumed, 'push-candidate')[0]?.nodes, s.stage.added);
    assert.equal(resumed.state.stage.ackDeadlineMs, restartAt + POLICY.resume_grace_ms, 'nodes get time to reconnect');
    assert.equal(resumed.state.log.at(-1)?.kind, 'resumed_after_restart');

    let r = resumed.state;
    r = tick(r, soakOver(r)).state;
    assert.equal(r.stage.index, 2);
    r = tick(r, soakOver(r)).state;
    assert.equal(r.status, 'promoted');
    const starts = r.log.filter((d) => d.kind === 'stage_started').map((d) => d.stage);
    const passes = r.log.filter((d) => d.kind === 'stage_passed').map((d) => d.stage);
    assert.deepEqual(starts, [0, 1, 2]);
    assert.deepEqual(passes, [0, 1, 2]);
  });

  it('a restart does not shorten a deadline further away than the grace', () => {
    const s = begin({ policy: { ...POLICY, resume_grace_ms: 5_000 } }).state;
    const resumed = reduce(persisted(s), { type: 'restart', nowMs: T0 + 1 });
    assert.equal(resumed.state.stage.ackDeadlineMs, T0 + ACK_TIMEOUT);
  });

  it('a restart during a soak keeps the soak where it was: the stage passes at the same time as without it', () => {
    const s0 = begin().state;
    const resumed = reduce(persisted(tick(s0, T0 + 20_000).state), { type: 'restart', nowMs: T0 + 30_000 }).state;
    assert.equal(tick(resumed, soakOver(s0) - 1).state.stage.index, 0);
    assert.equal(tick(resumed, soakOver(s0)).state.stage.index, 1);
  });

  it('a soak that ends while the control plane is down is judged only after the resume grace (no rollback for missing data)', () => {
    const s0 = begin().state;
    const restartAt = soakOver(s0) - 1;
    const resumed = reduce(persisted(s0), { type: 'restart', nowMs: restartAt }).state;
    const atEnd = tick(resumed, soakOver(s0), { noWindows: true });
    assert.equal(atEnd.state.status, 'running', 'the nodes have not reported since the restart yet');
    assert.deepEqual(ofType(atEnd, 'wake-at'), [{ type: 'wake-at', atMs: restartAt + POLICY.resume_grace_ms }]);
    assert.equal(tick(resumed, soakOver(s0)).state.stage.index, 1, 'with their reports in, it passes at the soak end');
    const late = tick(resumed, restartAt + POLICY.resume_grace_ms, { noWindows: true }).state;
    assert.equal(late.status, 'rolled_back', 'missing data still fails once the grace is over');
  });

  it('a restart of a paused rollout stays paused', () => {
    const paused = reduce(begin().state, { type: 'pause', nowMs: T0, actor: 'op' }).state;
    assert.equal(reduce(persisted(paused), { type: 'restart', nowMs: T0 + 1 }).state.status, 'paused');
  });
});
