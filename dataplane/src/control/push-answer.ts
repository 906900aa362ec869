/**
 * Turns one fully received push into its answer: verify the bytes' digest, hand them to the
 * GenerationApplier (apply, or hold for a CANDIDATE push), then Ack (after the swap / once
 * held, `candidate: true`) or Nack (the old generation keeps serving).
 */

import type { ConfigIssue } from '@spooky/config';
import { digest } from '@spooky/config';
import { type FromDataPlane, MAX_NACK_ISSUES } from '@spooky/proto';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import type { NackPhase } from '../telemetry/reason-vocabulary.ts';
import type { GenerationApplier, GenerationRef } from './generation-applier.ts';
import { toWireIssues, toWireRef } from './wire-refs.ts';

/** Nack phases on the wire (telemetry/reason-vocabulary.ts NACK_PHASES). */
export type { NackPhase };

export async function answerPush(
  applier: GenerationApplier,
  nonce: string,
  target: GenerationRef,
  payload: Uint8Array,
  now: () => number = Date.now,
  canary: CanaryAssignment | null = null,
): Promise<FromDataPlane> {
  const actual = digest(payload);
  if (actual !== target.digest) {
    return nack(applier, nonce, target, 'digest', true, [
      { pointer: '', code: 'transfer.digest_mismatch', message: `payload digest ${actual} differs from the target's` },
    ]);
  }
  let result: Awaited<ReturnType<GenerationApplier['apply']>>;
  try {
    result = canary === null ? await applier.apply(payload, target, 'control-plane') : await applier.hold(payload, target, canary);
  } catch {
    // The applier's contract is to resolve with a result; a throw is a bug there, not bad config.
    return nack(applier, nonce, target, 'apply', true, [
      { pointer: '', code: 'apply.exception', message: 'the generation applier failed unexpectedly' },
    ]);
  }
  if (!result.ok) return nack(applier, nonce, target, result.phase, result.retryable, result.issues);
  return ack(nonce, target, now(), canary !== null);
}

export function ack(nonce: string, applied: GenerationRef, atUnixMs: number, candidate: boolean): FromDataPlane {
  return { msg: { $case: 'ack', value: { nonce, applied: toWireRef(applied), servingAtUnixMs: atUnixMs, candidate } } };
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
