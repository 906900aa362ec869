/**
 * The one load-balancing contract. A Balancer is built per upstream per generation (by
 * compile/) over that upstream's backend list; `pick` returns the index of the backend to try
 * next, or null when every backend is excluded (→ 503 `no_healthy_backends`).
 *
 * `excluded` holds indexes the caller rules out: backends already tried by this request
 * (retries go elsewhere), unhealthy or circuit-open ones. Policies are pure apart from their
 * own cursor state, which lives in LongLivedState so it survives generation swaps.
 */
import type { LbType } from '@spooky/config';

export interface WeightedBackend {
  readonly weight: number;
}

export interface PickInput {
  readonly excluded: ReadonlySet<number> | null;
}

export interface Balancer {
  readonly type: LbType;
  pick(input: PickInput): number | null;
}

/** A source of uniform numbers in [0, 1); injectable for tests. */
export type RandomSource = () => number;

export function greatestCommonDivisor(values: readonly number[]): number {
  let g = 0;
  for (const v of values) {
    let a = g;
    let b = v;
    while (b !== 0) [a, b] = [b, a % b];
    g = a;
  }
  return g === 0 ? 1 : g;
}
