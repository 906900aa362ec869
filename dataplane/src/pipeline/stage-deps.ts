/**
 * What stages get injected when the stage list is built (once per process): the long-lived
 * state (LongLivedState owns the retry budgets, in-flight gauges, rate-limit buckets and
 * breakers; per-upstream / per-backend entries are resolved onto the generation by compile/)
 * and the randomness used for retry jitter (fixed in tests).
 */
import type { Logger } from 'pino';
import type { LongLivedState } from '../runtime/long-lived-state.ts';

export interface StageDeps {
  readonly state: LongLivedState;
  /** [0, 1); Math.random in production. */
  readonly random: () => number;
  /** For rare state transitions (brownout on / off); none in tests that do not care. */
  readonly logger?: Logger;
}
