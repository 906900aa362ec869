/**
 * GET /v1/rollouts/{id} as RolloutControl returns it: the stored row, the state (the driver's
 * in-memory one when live: its latest gate evaluation may be newer than the row), stages with
 * the nodes each added (from the log's `stage_started` and `cohort_grown` lines) and the log
 * with ISO times. Pure.
 */
import type { DecisionView, RolloutView, StageView } from './rollout-control.ts';
import { isFinished } from './rollout-machine.ts';
import type { RolloutSummary } from './rollout-ports.ts';
import type { Decision, RolloutState } from './rollout-state.ts';

export function decisionView(d: Decision): DecisionView {
  return { ...d, at: iso(d.atMs) };
}

export function rolloutView(row: RolloutSummary, state: RolloutState): RolloutView {
  const final = isFinished(state);
  const current = state.stage.index;
  const stages: StageView[] = state.policy.stages.map((p, index) => {
    const lines = state.log.filter((d) => d.stage === index && (d.kind === 'stage_started' || d.kind === 'cohort_grown'));
    const started = lines.find((d) => d.kind === 'stage_started');
    const done = index < current || (index === current && state.status === 'promoted');
    return {
      index,
      name: p.name,
      state: done ? 'done' : index === current ? 'current' : 'pending',
      nodes: lines.flatMap((d) => d.nodes ?? []),
      soakMs: p.soak_ms,
      startedAt: started === undefined ? null : iso(started.atMs),
    };
  });
  return {
    id: row.id,
    scope: row.scope,
    targetSeq: row.targetSeq,
    lkgSeq: row.lkgSeq,
    policyVersion: row.policyVersion,
    status: state.status,
    final,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    endedAt: state.endedAtMs === null ? null : iso(state.endedAtMs),
    currentStage: current,
    stages,
    cohort: state.cohort,
    lastEvaluation:
      state.lastEvaluation === null
        ? null
        : { at: iso(state.lastEvaluation.atMs), kind: state.lastEvaluation.kind, numbers: state.lastEvaluation.numbers },
    decisions: state.log.map(decisionView),
    policy: state.policy,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
