/**
 * Property test of the rollout state machine: random fleets, policies and event sequences
 * (observations with random ACK/NACK/silence and health, operator controls, restarts from the
 * persisted JSON). After every step: the log only grows and every new line is emitted once;
 * the stage moves by at most one; stages start and pass in order, each once; the cohort only
 * grows; rollbacks cover the whole cohort and only end a rollout; `activate` only completes
 * one that passed every stage; a final state absorbs everything; the state survives JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../testing/fuzz-runs.ts';
import type { FleetNode } from './cohort-selection.ts';
import type { NodeFacts } from './gate-evaluation.ts';
import { isFinished, reduce } from './rollout-machine.ts';
import { DEFAULT_ROLLOUT_POLICY, GATE_DEFAULTS, type RolloutPolicy } from './rollout-policy.ts';
import type { RolloutEvent, RolloutState, Step } from './rollout-state.ts';

const TARGET = 3;
const LKG = 2;
const MAX_NODES = 12;

const policyArb = fc
  .record({
    soak: fc.constantFrom(0, 20_000, 60_000),
    canary: fc.constantFrom(0, 5),
    quorum: fc.constantFrom(0.5, 0.95, 1),
    budget: fc.constantFrom(0, 1),
    minNodes: fc.constantFrom(1, 2, 4),
    freezeAfter: fc.constantFrom(1, 2),
  })
  .map(
    (p): RolloutPolicy => ({
      ...DEFAULT_ROLLOUT_POLICY,
      stages: [
        { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: p.minNodes, soak_ms: p.soak },
        { name: 'half', labels: {}, percent: 50, min_nodes: 1, soak_ms: p.soak },
        { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
      ],
      gates: { ...GATE_DEFAULTS, ack_quorum: p.quorum, nack_budget: p.budget, ack_timeout_ms: 30_000, health: { ...GATE_DEFAULTS.health, min_requests: 50 } },
      canary: { ...DEFAULT_ROLLOUT_POLICY.canary, percent: p.canary },
      freeze_after: p.freezeAfter,
    }),
  );

const fleetArb = fc
  .array(fc.boolean(), { minLength: 0, maxLength: MAX_NODES })
  .map((canaries): FleetNode[] => canaries.map((c, i) => ({ id: `n${i}`, labels: c ? { role: 'canary' } : {} })));

type Action =
  | { readonly t: 'observe'; readonly dt: number; readonly rolls: readonly number[]; readonly visible: number }
  | { readonly t: 'pause' | 'resume' | 'promote' | 'abort' | 'restart'; readonly dt: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('observe' as const),
      dt: fc.integer({ min: 0, max: 70_000 }),
      rolls: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: MAX_NODES, maxLength: MAX_NODES }),
      visible: fc.integer({ min: 0, max: MAX_NODES }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constantFrom('pause', 'resume', 'promote', 'abort', 'restart'), dt: fc.integer({ min: 0, max: 10_000 }) }) },
);

/** Facts for one observation: roll < 3 NACKs, < 15 is silent, else ACKs; roll > 96 serves 5xx. */
function factsFor(s: RolloutState, fleet: readonly FleetNode[], rolls: readonly number[], nowMs: number): NodeFacts[] {
  const cohort = new Set(s.cohort);
  const from = s.stage.startedAtMs + 10_000;
  return fleet.map((n, i) => {
    const roll = rolls[i] ?? 50;
    const lkg = { seq: LKG, fromMs: from, toMs: from + 10_000, requests: 100, local5xx: 0, upstream5xx: 0, latency: { boundsMs: [10, 100], counts: [100, 0, 0] } };
    if (!cohort.has(n.id)) return { id: n.id, answer: { kind: 'none' }, windows: [lkg] };
    const answer =
      roll < 3
        ? ({ kind: 'nack', atMs: nowMs } as const)
        : roll < 15
          ? ({ kind: 'none' } as const)
          : ({ kind: 'ack', atMs: Math.min(nowMs, s.stage.startedAtMs + roll * 100) } as const);
    const target = { ...lkg, seq: TARGET, local5xx: roll > 96 ? 20 : 0 };
    return { id: n.id, answer, windows: [target, lkg] };
  });
}

function checkStep(prev: RolloutState, event: RolloutEvent, step: Step): void {
  const next = step.state;
  if (isFinished(prev)) {
    assert.equal(next, prev, 'a final state absorbs every event');
    assert.deepEqual(step.effects, []);
    return;
  }
  if (step.refused !== null) {
    assert.equal(next, prev);
    assert.deepEqual(step.effects, []);
    return;
  }
  assert.deepEqual(next.log.slice(0, prev.log.length), prev.log, 'the log is append-only');
  const added = next.log.slice(prev.log.length);
  const emitted = step.effects.flatMap((e) => (e.type === 'emit' ? [e.decision] : []));
  assert.deepEqual(emitted, added, 'every new decision is emitted once');
  const moved = next.stage.index - prev.stage.index;
  assert.ok(moved === 0 || moved === 1, `stage moved by ${moved} on ${event.type}`);
  assert.ok(next.stage.index < next.policy.stages.length);
  assert.deepEqual(next.cohort.slice(0, prev.cohort.length), prev.cohort, 'the cohort only grows');
  assert.equal(new Set(next.cohort).size, next.cohort.length, 'no node twice in the cohort');
  for (const e of step.effects) {
    if (e.type === 'rollback-nodes') {
      assert.ok(next.status === 'rolled_back' || next.status === 'aborted');
      assert.deepEqual(e.nodes, next.cohort);
      assert.equal(e.toSeq, LKG);
    }
    if (e.type === 'activate') assert.equal(next.status, 'promoted');
    if (e.type === 'freeze-scope') assert.ok(next.status === 'rolled_back' && next.streakBefore + 1 >= next.policy.freeze_after);
    if (e.type === 'mark-failed') assert.equal(next.status, 'rolled_back');
  }
  if (next.status === 'promoted') assert.ok(step.effects.some((e) => e.type === 'activate'));
  assert.deepEqual(JSON.parse(JSON.stringify(next)), next, 'the state stores as JSON unchanged');
}

/** Stages started and passed appear in order, each once; a promoted rollout passed all of them. */
function checkLog(s: RolloutState): void {
  const started = s.log.filter((d) => d.kind === 'stage_started').map((d) => d.stage);
  const passed = s.log.filter((d) => d.kind === 'stage_passed').map((d) => d.stage);
  assert.deepEqual(started, started.map((_, i) => i), 'stages start in order, none skipped or repeated');
  assert.deepEqual(passed, passed.map((_, i) => i), 'stages pass in order, each once');
  assert.ok(passed.length <= started.length);
  if (s.status === 'promoted') assert.equal(passed.length, s.policy.stages.length);
  const finals = s.log.filter((d) => ['completed', 'rolled_back', 'aborted'].includes(d.kind));
  assert.equal(finals.length, isFinished(s) ? 1 : 0);
}

describe('rollout machine: properties over random event sequences', () => {
  it('keeps its invariants after every step', () => {
    fc.assert(
      fc.property(policyArb, fleetArb, fc.integer({ min: 0, max: 2 }), fc.array(actionArb, { maxLength: 40 }), (policy, fleet, streak, actions) => {
        let now = 1_000_000;
        let step = reduce(null, { type: 'start', nowMs: now, id: 'r-fuzz', scope: 's', targetSeq: TARGET, lkgSeq: LKG, policy, fleet: fleet.slice(0, 3), streakBefore: streak, actor: 'ci' });
        checkLog(step.state);
        for (const a of actions) {
          now += a.dt;
          const prev = step.state;
          let event: RolloutEvent;
          if (a.t === 'observe') {
            const visibleFleet = fleet.slice(0, Math.max(3, a.visible));
            event = { type: 'tick', nowMs: now, fleet: visibleFleet, facts: factsFor(prev, visibleFleet, a.rolls, now) };
          } else if (a.t === 'restart') {
            event = { type: 'restart', nowMs: now };
          } else {
            event = { type: a.t, nowMs: now, actor: 'op' };
          }
          // A restart starts from what the store gives back: the state's JSON.
          const base = a.t === 'restart' ? (JSON.parse(JSON.stringify(prev)) as RolloutState) : prev;
          step = reduce(base, event);
          checkStep(base, event, step);
          checkLog(step.state);
        }
      }),
      { numRuns: fuzzRuns(150) },
    );
  });
});
