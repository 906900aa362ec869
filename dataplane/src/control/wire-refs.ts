/**
 * Conversions between the ConfigSync wire messages (@spooky/proto) and the applier port. The
 * wire uses absent messages for "nothing"; the port uses null.
 */
import type { ConfigIssue } from '@spooky/config';
import { ServingSource, type CanaryAssignment as WireCanary, type ConfigIssue as WireIssue, type GenerationRef as WireRef } from '@spooky/proto';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import type { GenerationRef, ServingSource as PortServingSource } from './generation-applier.ts';

export function toWireRef(ref: GenerationRef | null | undefined): WireRef | undefined {
  return ref ? { scope: ref.scope, seq: ref.seq, digest: ref.digest } : undefined;
}

export function fromWireRef(ref: WireRef | undefined): GenerationRef | null {
  if (ref === undefined || ref.digest === '') return null;
  return { scope: ref.scope, seq: ref.seq, digest: ref.digest };
}

/** A CANDIDATE push's assignment for the candidate `candidateDigest` (the push's target). */
export function fromWireCanary(canary: WireCanary, candidateDigest: string): CanaryAssignment {
  return {
    candidateDigest,
    percent: canary.percent,
    crashWindowMs: canary.crashWindowMs,
    thresholds: {
      minRequests: canary.minRequests,
      maxErrorRatio: canary.maxErrorRatio,
      maxErrorIncrease: canary.maxErrorIncrease,
      maxP99Factor: canary.maxP99Factor,
      minP99IncreaseMs: canary.minP99IncreaseMs,
    },
  };
}

export function toWireSource(source: PortServingSource): ServingSource {
  switch (source) {
    case 'control-plane':
      return ServingSource.SERVING_SOURCE_CONTROL_PLANE;
    case 'disk-cache':
      return ServingSource.SERVING_SOURCE_DISK_CACHE;
    case 'local-file':
      return ServingSource.SERVING_SOURCE_LOCAL_FILE;
    default:
      return ServingSource.SERVING_SOURCE_NONE;
  }
}

export function toWireIssues(issues: readonly ConfigIssue[], max: number): WireIssue[] {
  return issues.slice(0, max).map((i) => ({ pointer: i.pointer, code: i.code, message: i.message }));
}
