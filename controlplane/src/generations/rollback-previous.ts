/**
 * What `rollback --to previous` means, as a pure function over a scope's activation history.
 *
 * `previous` = the newest generation that was active before the current one and that the scope
 * did not leave by a rollback. An activation period that ended with a rollback does not count:
 * rolling back from a generation says it was bad, so a second `rollback --to previous` must
 * not restore it (the old rule, "the newest earlier activation of another generation", made
 * two rollbacks an undo toggle: 3 → 2 → 3). Rolling back twice therefore walks further back
 * (3 → 2 → 1). A generation's newest period decides: rolled back from in its newest period, it
 * is skipped even if an older period ended normally; rolled back from once but later activated
 * and left normally, it counts again. The current generation never qualifies.
 */

/** One entry of the activation log (ports.ts ActivationRecord, reduced to what the rule reads). */
export interface ActivationStep {
  readonly seq: number;
  readonly version: number;
  readonly kind: 'activate' | 'rollback';
}

/**
 * The seq `rollback --to previous` targets, or null when no earlier generation qualifies.
 * `history` is the scope's whole activation log in any order; the entry with the highest
 * version is the current pointer (its seq is the current generation).
 */
export function rollbackPrevious(history: readonly ActivationStep[]): number | null {
  const steps = [...history].sort((a, b) => a.version - b.version);
  const current = steps.at(-1);
  if (current === undefined) return null;
  // steps[i] was left by steps[i + 1]. Walking newest first, the first period met of a seq is
  // its newest one and decides for that seq.
  const decided = new Set<number>([current.seq]);
  for (let i = steps.length - 2; i >= 0; i--) {
    const step = steps[i]!;
    if (decided.has(step.seq)) continue;
    if (steps[i + 1]!.kind !== 'rollback') return step.seq;
    decided.add(step.seq);
  }
  return null;
}
