/**
 * Caps on what a response may carry, so no answer grows with its input: lists of changes and
 * of issues are cut at a fixed count and say so (`truncated: true` plus the total), the way
 * a page says `next`. The values inside a change are bounded by the stored config's own cap
 * (MAX_CONFIG_BYTES applies to the canonical form), so count caps bound the bytes too.
 */
import type { Change, ConfigIssue } from '@spooky/config';
import type { RolloutView } from '../rollout/rollout-control.ts';

/** Changes returned by validate, diff, activate and rollback. */
export const MAX_RESPONSE_CHANGES = 1000;
/** Issues returned in a validate answer or a problem body. */
export const MAX_RESPONSE_ISSUES = 100;

export interface CappedChanges {
  readonly changes: readonly Change[];
  /** True when `changes` holds only the first MAX_RESPONSE_CHANGES of `totalChanges`. */
  readonly truncated: boolean;
  readonly totalChanges: number;
}

export function capChanges(changes: readonly Change[], max = MAX_RESPONSE_CHANGES): CappedChanges {
  return changes.length > max
    ? { changes: changes.slice(0, max), truncated: true, totalChanges: changes.length }
    : { changes, truncated: false, totalChanges: changes.length };
}

/** The first MAX_RESPONSE_ISSUES issues, plus `totalIssues` when some were left out. */
export function capIssues(issues: readonly ConfigIssue[], max = MAX_RESPONSE_ISSUES): { issues: readonly ConfigIssue[]; totalIssues?: number } {
  return issues.length > max ? { issues: issues.slice(0, max), totalIssues: issues.length } : { issues };
}

/** Decision lines a rollout answer carries (the newest); the log itself is never cut. */
export const MAX_RESPONSE_DECISIONS = 500;
/** Node ids per stage and in the cohort of a rollout answer. */
export const MAX_RESPONSE_NODES = 1000;

/**
 * A rollout as the API answers it: every node list cut at MAX_RESPONSE_NODES with its full
 * count beside it (`nodeCount` per stage, `cohortSize`), the newest MAX_RESPONSE_DECISIONS
 * decisions with `totalDecisions`, and `truncated` when anything was left out.
 */
export function boundRollout(view: RolloutView, maxNodes = MAX_RESPONSE_NODES, maxDecisions = MAX_RESPONSE_DECISIONS) {
  const truncated =
    view.cohort.length > maxNodes || view.decisions.length > maxDecisions || view.stages.some((s) => s.nodes.length > maxNodes);
  return {
    ...view,
    stages: view.stages.map((s) => ({ ...s, nodes: s.nodes.slice(0, maxNodes), nodeCount: s.nodes.length })),
    cohort: view.cohort.slice(0, maxNodes),
    cohortSize: view.cohort.length,
    decisions: view.decisions.length > maxDecisions ? view.decisions.slice(-maxDecisions) : view.decisions,
    totalDecisions: view.decisions.length,
    truncated,
  };
}
