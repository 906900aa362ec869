/**
 * A staged rollout as spookyctl shows it (GET /v1/rollouts/{id}, docs/rollout.md §6): the
 * rollout's shape as the CLI reads it (the CLI imports no server code) and its human lines —
 * the status, every stage with its node count and soak, and the numbers of a failed gate.
 */

export interface RolloutStageView {
  readonly index: number;
  readonly name: string;
  readonly state: 'done' | 'current' | 'pending';
  readonly nodes: readonly string[];
  /** All the stage's nodes (`nodes` is cut at 1000 by the server). */
  readonly nodeCount?: number;
  readonly soakMs: number;
}

export interface GateFailureView {
  readonly rule: string;
  readonly observed: number;
  readonly limit: number;
  readonly nodes?: readonly string[];
}

export interface RolloutDecisionView {
  readonly at: string;
  readonly stage: number;
  readonly kind: string;
  readonly actor?: string;
  readonly reason?: string;
  readonly failures?: readonly GateFailureView[];
}

export interface RolloutViewBody {
  readonly id: string;
  readonly scope: string;
  readonly targetSeq: number;
  readonly lkgSeq: number;
  readonly status: string;
  readonly final: boolean;
  readonly currentStage: number;
  readonly stages: readonly RolloutStageView[];
  readonly cohort: readonly string[];
  readonly cohortSize?: number;
  readonly decisions: readonly RolloutDecisionView[];
}

/** `5m`, `90s`, `250ms`: the soak as an operator reads it. */
export function shortDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The failures of the last failed gate, newest decision first (none when no gate failed). */
export function failedGate(view: RolloutViewBody): readonly GateFailureView[] {
  for (let i = view.decisions.length - 1; i >= 0; i--) {
    const d = view.decisions[i];
    if (d?.kind === 'gate_failed' && d.failures && d.failures.length > 0) return d.failures;
  }
  return [];
}

export function rolloutLines(view: RolloutViewBody): string[] {
  const stages = Array.isArray(view.stages) ? view.stages : [];
  const current = stages[view.currentStage];
  const where = view.final ? '' : ` in stage ${view.currentStage + 1}/${stages.length}${current ? ` (${current.name})` : ''}`;
  const lines = [`rollout ${view.id}: seq ${view.targetSeq} in scope ${view.scope}, ${view.status}${where}; LKG seq ${view.lkgSeq}`];
  for (const s of stages) {
    const count = s.nodeCount ?? s.nodes.length;
    const nodes = `${count} node${count === 1 ? '' : 's'}`;
    lines.push(`  ${`[${s.state}]`.padEnd(9)} ${String(s.index + 1).padStart(2)}. ${s.name.padEnd(16)} ${nodes.padEnd(9)} soak ${shortDuration(s.soakMs)}`);
  }
  const cohort = view.cohortSize ?? view.cohort.length;
  lines.push(`  cohort: ${cohort} node${cohort === 1 ? '' : 's'}`);
  for (const f of failedGate(view)) {
    const nodes = f.nodes && f.nodes.length > 0 ? ` (nodes ${f.nodes.join(', ')})` : '';
    lines.push(`  gate failed: ${f.rule} observed ${f.observed} > limit ${f.limit}${nodes}`);
  }
  const last = view.decisions.at(-1);
  if (last) {
    const who = last.actor === undefined ? '' : ` by ${last.actor}`;
    lines.push(`  last decision: ${last.kind}${who} at ${last.at}${last.reason === undefined ? '' : ` (${last.reason})`}`);
  }
  return lines;
}
