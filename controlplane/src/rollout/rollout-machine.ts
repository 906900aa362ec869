/**
 * The staged-rollout state machine (docs/rollout.md, "State machine"): a pure reducer
 * `(state, event) → {state, effects, refused}`. No I/O, no clock: time comes in every event.
 *
 * Contracts the shell relies on:
 *  - One observation moves at most one stage: a passed stage starts the next one and returns;
 *    the new stage is judged by a later event. No stage is skipped, none is run twice.
 *  - The state (with its append-only log) is all a restart needs: `restart` resumes the same
 *    stage with the same cohort and start time, re-asserts the nodes' desired state and moves
 *    the ACK deadline to at least now + `resume_grace_ms` (nodes reconnect after a restart).
 *  - The shell stores the new state and its effects in one transaction, then carries the effects
 *    out (an outbox); node effects are desired state, so doing them again is harmless.
 *  - Safety is never paused: a paused rollout still rolls back on a failed gate; it only holds
 *    a passed stage. Operator abort rolls back without marking the generation failed and does
 *    not count towards the freeze.
 */
import { selectCohort } from './cohort-selection.ts';
import { evaluateStage, type GateVerdict } from './gate-evaluation.ts';
import type { GateFailure } from './health-gate.ts';
import type {
  Decision,
  ObserveEvent,
  OperatorEvent,
  RestartEvent,
  RolloutEffect,
  RolloutEvent,
  RolloutState,
  StartEvent,
  Step,
} from './rollout-state.ts';

/** True once the rollout is promoted, rolled back or aborted: no event changes it any more. */
export function isFinished(state: RolloutState): boolean {
  return state.status !== 'running' && state.status !== 'paused';
}

/** Applies one event. `start` needs no state; every other event needs one (else it throws: a shell bug). */
export function reduce(state: RolloutState | null, event: RolloutEvent): Step {
  if (event.type === 'start') {
    if (state !== null) throw new Error(`rollout ${state.id} already started`);
    return start(event);
  }
  if (state === null) throw new Error(`${event.type} before start`);
  switch (event.type) {
    case 'tick':
    case 'facts':
      return observe(state, event);
    case 'restart':
      return restart(state, event);
    default:
      return operate(state, event);
  }
}

/** Builder of one step: the state so far plus the effects, with decisions logged and emitted. */
class Draft {
  state: RolloutState;
  readonly effects: RolloutEffect[] = [];
  constructor(state: RolloutState) {
    this.state = state;
  }
  decide(d: Omit<Decision, 'stage'> & { stage?: number }): void {
    const decision: Decision = { ...d, stage: d.stage ?? this.state.stage.index };
    this.state = { ...this.state, log: [...this.state.log, decision] };
    this.effects.push({ type: 'emit', rolloutId: this.state.id, decision });
  }
  step(): Step {
    return { state: this.state, effects: this.effects, refused: null };
  }
}

function start(e: StartEvent): Step {
  const first = e.policy.stages[0];
  if (first === undefined) throw new Error('a rollout policy has at least one stage');
  const plan = selectCohort(e.id, first, e.fleet, []);
  const draft = new Draft({
    id: e.id,
    scope: e.scope,
    targetSeq: e.targetSeq,
    lkgSeq: e.lkgSeq,
    policy: e.policy,
    status: 'running',
    stage: {
      index: 0,
      startedAtMs: e.nowMs,
      ackDeadlineMs: e.nowMs + e.policy.gates.ack_timeout_ms,
      added: plan.added,
      selected: plan.selected,
      promoted: false,
    },
    cohort: plan.cohort,
    streakBefore: e.streakBefore,
    startedAtMs: e.nowMs,
    endedAtMs: null,
    log: [],
    lastEvaluation: null,
  });
  draft.decide({ atMs: e.nowMs, kind: 'started', actor: e.actor });
  draft.decide({ atMs: e.nowMs, kind: 'stage_started', nodes: plan.added });
  pushCandidate(draft, plan.added);
  draft.effects.push({ type: 'wake-at', atMs: draft.state.stage.ackDeadlineMs });
  return draft.step();
}

function observe(state: RolloutState, e: ObserveEvent): Step {
  if (isFinished(state)) return unchanged(state, null);
  const draft = new Draft(state);
  growShortCohort(draft, e);
  const s = draft.state;
  const stagePolicy = s.policy.stages[s.stage.index]!;
  const verdict = evaluateStage({
    gates: s.policy.gates,
    soakMs: stagePolicy.soak_ms,
    minNodes: stagePolicy.min_nodes,
    targetSeq: s.targetSeq,
    baselineSeq: s.lkgSeq,
    stageNodes: s.stage.added,
    cohort: s.cohort,
    selected: s.stage.selected,
    startedAtMs: s.stage.startedAtMs,
    ackDeadlineMs: s.stage.ackDeadlineMs,
    promoted: s.stage.promoted,
    facts: e.facts,
    nowMs: e.nowMs,
    ...(s.stage.verdictNotBeforeMs === undefined ? {} : { verdictNotBeforeMs: s.stage.verdictNotBeforeMs }),
  });
  draft.state = { ...s, lastEvaluation: { atMs: e.nowMs, kind: verdict.kind, numbers: verdict.numbers } };
  if (verdict.kind === 'fail') {
    rollBack(draft, e.nowMs, verdict);
  } else if (verdict.kind === 'wait') {
    draft.effects.push({ type: 'wake-at', atMs: verdict.untilMs });
  } else if (s.status === 'running') {
    advance(draft, e, verdict);
  }
  return draft.step();
}

/**
 * While a stage has fewer matching nodes than `min_nodes` and its ACK deadline has not passed,
 * nodes that joined since are added (and pushed); the deadline stays where it was.
 */
function growShortCohort(draft: Draft, e: ObserveEvent): void {
  const s = draft.state;
  const stagePolicy = s.policy.stages[s.stage.index]!;
  if (s.stage.selected >= stagePolicy.min_nodes || e.nowMs >= s.stage.ackDeadlineMs) return;
  const plan = selectCohort(s.id, stagePolicy, e.fleet, s.cohort);
  if (plan.added.length === 0) return;
  draft.state = {
    ...s,
    cohort: plan.cohort,
    stage: { ...s.stage, added: [...s.stage.added, ...plan.added], selected: plan.selected },
  };
  draft.decide({ atMs: e.nowMs, kind: 'cohort_grown', nodes: plan.added });
  pushCandidate(draft, plan.added);
}

/** The stage passed: its nodes serve the target fully, then the next stage starts or the rollout completes. */
function advance(draft: Draft, e: ObserveEvent, verdict: Extract<GateVerdict, { kind: 'pass' }>): void {
  const s = draft.state;
  draft.decide({ atMs: e.nowMs, kind: 'stage_passed', numbers: verdict.numbers });
  if (s.policy.canary.percent > 0 && s.stage.added.length > 0) {
    draft.effects.push({ type: 'promote-nodes', nodes: s.stage.added, seq: s.targetSeq });
  }
  const nextIndex = s.stage.index + 1;
  const next = s.policy.stages[nextIndex];
  if (next === undefined) {
    draft.effects.push({ type: 'activate', seq: s.targetSeq });
    draft.effects.push({ type: 'set-rollback-streak', scope: s.scope, count: 0 });
    draft.state = { ...draft.state, status: 'promoted', endedAtMs: e.nowMs };
    draft.decide({ atMs: e.nowMs, kind: 'completed' });
    return;
  }
  const plan = selectCohort(s.id, next, e.fleet, s.cohort);
  draft.state = {
    ...draft.state,
    cohort: plan.cohort,
    stage: {
      index: nextIndex,
      startedAtMs: e.nowMs,
      ackDeadlineMs: e.nowMs + s.policy.gates.ack_timeout_ms,
      added: plan.added,
      selected: plan.selected,
      promoted: false,
    },
  };
  draft.decide({ atMs: e.nowMs, kind: 'stage_started', nodes: plan.added });
  pushCandidate(draft, plan.added);
  draft.effects.push({ type: 'wake-at', atMs: draft.state.stage.ackDeadlineMs });
}

/** A failed gate: the cohort goes back to the LKG, the target is marked failed, and the streak may freeze the scope. */
function rollBack(draft: Draft, nowMs: number, verdict: Extract<GateVerdict, { kind: 'fail' }>): void {
  const s = draft.state;
  draft.decide({ atMs: nowMs, kind: 'gate_failed', failures: verdict.failures, numbers: verdict.numbers });
  if (s.cohort.length > 0) draft.effects.push({ type: 'rollback-nodes', nodes: s.cohort, toSeq: s.lkgSeq });
  draft.effects.push({ type: 'mark-failed', seq: s.targetSeq, rule: firstRule(verdict.failures) });
  const streak = s.streakBefore + 1;
  draft.effects.push({ type: 'set-rollback-streak', scope: s.scope, count: streak });
  draft.state = { ...draft.state, status: 'rolled_back', endedAtMs: nowMs };
  draft.decide({ atMs: nowMs, kind: 'rolled_back', nodes: s.cohort });
  if (streak >= s.policy.freeze_after) {
    const reason = `${streak} automatic rollbacks in a row (the last: rollout ${s.id}, ${firstRule(verdict.failures)})`;
    draft.effects.push({ type: 'freeze-scope', scope: s.scope, reason });
    draft.decide({ atMs: nowMs, kind: 'frozen', reason });
  }
}

function restart(state: RolloutState, e: RestartEvent): Step {
  if (isFinished(state)) return unchanged(state, null);
  const draft = new Draft(state);
  const grace = e.nowMs + state.policy.resume_grace_ms;
  const ackDeadlineMs = Math.max(state.stage.ackDeadlineMs, grace);
  const verdictNotBeforeMs = Math.max(state.stage.verdictNotBeforeMs ?? 0, grace);
  draft.state = { ...state, stage: { ...state.stage, ackDeadlineMs, verdictNotBeforeMs } };
  draft.decide({ atMs: e.nowMs, kind: 'resumed_after_restart' });
  const current = new Set(state.stage.added);
  const earlier = state.cohort.filter((id) => !current.has(id));
  if (earlier.length > 0) draft.effects.push({ type: 'promote-nodes', nodes: earlier, seq: state.targetSeq });
  pushCandidate(draft, state.stage.added);
  draft.effects.push({ type: 'wake-at', atMs: e.nowMs });
  return draft.step();
}

function operate(state: RolloutState, e: OperatorEvent): Step {
  if (isFinished(state)) return unchanged(state, 'finished');
  const draft = new Draft(state);
  const actor = e.actor;
  const reason = e.reason === undefined ? {} : { reason: e.reason };
  switch (e.type) {
    case 'pause':
      if (state.status !== 'running') return unchanged(state, 'not_running');
      draft.state = { ...state, status: 'paused' };
      draft.decide({ atMs: e.nowMs, kind: 'paused', actor, ...reason });
      break;
    case 'resume':
      if (state.status !== 'paused') return unchanged(state, 'not_paused');
      draft.state = { ...state, status: 'running' };
      draft.decide({ atMs: e.nowMs, kind: 'resumed', actor, ...reason });
      draft.effects.push({ type: 'wake-at', atMs: e.nowMs });
      break;
    case 'promote':
      draft.state = { ...state, stage: { ...state.stage, promoted: true } };
      draft.decide({ atMs: e.nowMs, kind: 'promoted_by_operator', actor, ...reason });
      draft.effects.push({ type: 'wake-at', atMs: e.nowMs });
      break;
    case 'abort':
      if (state.cohort.length > 0) draft.effects.push({ type: 'rollback-nodes', nodes: state.cohort, toSeq: state.lkgSeq });
      draft.state = { ...state, status: 'aborted', endedAtMs: e.nowMs };
      draft.decide({ atMs: e.nowMs, kind: 'aborted', actor, nodes: state.cohort, ...reason });
      break;
  }
  return draft.step();
}

function pushCandidate(draft: Draft, nodes: readonly string[]): void {
  if (nodes.length === 0) return;
  const s = draft.state;
  draft.effects.push({ type: 'push-candidate', nodes, seq: s.targetSeq, canaryPercent: s.policy.canary.percent });
}

function unchanged(state: RolloutState, refused: Step['refused']): Step {
  return { state, effects: [], refused };
}

function firstRule(failures: readonly GateFailure[]): string {
  return failures[0]?.rule ?? 'unknown';
}
