/**
 * PreparedApply: the first half of a two-phase apply (a supervisor primary applying one
 * generation on N workers, apply/fleet-applier.ts; serving-applier.ts makes them): everything up
 * to the swap is done. On ok, exactly one of commit() / abort() must follow; until then the
 * applier that made it takes no other apply (apply-queue.ts).
 */
import type { ApplyResult } from '../control/generation-applier.ts';

export interface PreparedApply {
  readonly result: ApplyResult;
  /** Swaps the prepared generation in (synchronous; a no-op when `result` is not ok). */
  commit(): void;
  /** Drops the prepared generation: new listeners closed, the served one untouched. */
  abort(): Promise<void>;
  /** Resolves once the apply marker of a committed apply is removed (cache/apply-journal.ts). */
  flushed(): Promise<void>;
}
