/**
 * Pure: whether this request gets a mirrored copy. Rules, in order:
 *  1. the matched route has a `mirror` (else no decision is reported: `none`);
 *  2. only requests without a body are mirrored (`skipped:body`): a streamed body is read
 *     once, by the real attempt, and is never buffered or teed — so POST/PUT with a body are
 *     not mirrored, GET/HEAD/DELETE/OPTIONS without one are;
 *  3. sampled: mirrored when `roll` (uniform in [0, 1)) × 100 < percent (`skipped:sampled`);
 *     percent 100 mirrors every request, 0 none;
 *  4. a concurrency slot for the mirror upstream is free (`skipped:busy`).
 */

export interface MirrorFacts {
  readonly percent: number;
  readonly hasBody: boolean;
  /** Uniform in [0, 1). */
  readonly roll: number;
  readonly slotFree: boolean;
}

export type MirrorDecision =
  | { readonly mirror: true }
  | { readonly mirror: false; readonly reason: 'skipped:body' | 'skipped:sampled' | 'skipped:busy' };

export function decideMirror(facts: MirrorFacts): MirrorDecision {
  if (facts.hasBody) return { mirror: false, reason: 'skipped:body' };
  if (!(facts.roll * 100 < facts.percent)) return { mirror: false, reason: 'skipped:sampled' };
  if (!facts.slotFree) return { mirror: false, reason: 'skipped:busy' };
  return { mirror: true };
}
