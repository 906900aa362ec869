/**
 * Turns one fully received push into its answer: verify the bytes' digest, hand them to the
 * GenerationApplier, then Ack (after the swap) or Nack (the old generation keeps serving).
 */

import type { ConfigIssue } from '@spooky/config';
import { digest } from '@spooky/config';
import { type FromDataPlane, MAX_NACK_ISSUES } from '@spooky/proto';
import type { GenerationApplier, GenerationRef } from './generation-applier.ts';
import { toWireIssues, toWireRef } from './wire-refs.ts';

/** Nack phases on the wire: the applier's three plus the two owned by control/. */
export type NackPhase = 'transfer' | 'digest' | 'parse' | 'compile' | 'apply';

export async function answerPush(
  applier: GenerationApplier,
  nonce: string,
  target: GenerationRef,
  payload: Uint8Array,
  now: () => number = Date.now,
): Promise<FromDataPlane> {
  const actual = digest(payload);
  if (actual !== target.digest) {
    return nack(applier, nonce, target, 'digest', true, [
      { pointer: '', code: 'transfer.digest_mismatch', message: `payload digest ${actual} differs from the target's` },
    ]);
  }
  let result: Awaited<ReturnType<GenerationApplier['apply']>>;
  try {
    result = await applier.apply(payload, target, 'control-plane');
  } catch {
    // The applier's contract is to resolve with a result; a throw is a bug there, not bad config.
    return nack(applier, nonce, target, 'apply', true, [
      { pointer: '', code: 'apply.exception', message: 'the generation applier failed unexpectedly' },
    ]);
  }
  if (!result.ok) return nack(applier, nonce, target, result.phase, result.retryable, result.issues);
  return { msg: { $case: 'ack', value: { nonce, applied: toWireRef(target), servingAtUnixMs: now(), candidate: false } } };
}

export function nack(
  applier: GenerationApplier,
  nonce: string,
  rejected: GenerationRef | null,
  phase: NackPhase,
  retryable: boolean,
  issues: readonly ConfigIssue[],
): FromDataPlane {
  return {
    msg: {
      $case: 'nack',
      value: {
        nonce,
        rejected: toWireRef(rejected),
        stillServing: toWireRef(applier.serving()?.ref),
        phase,
        retryable,
        issues: toWireIssues(issues, MAX_NACK_ISSUES),
      },
    },
  };
}
