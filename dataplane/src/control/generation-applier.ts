/**
 * Port between the control-plane client (control/) and the process that serves traffic.
 * control/ receives and verifies a generation's bytes; the applier parses, compiles, prepares
 * listeners and swaps. Implemented in main.ts's wiring; control/ never imports ingress/runtime.
 *
 * During a staged rollout the applier also holds a CANDIDATE generation beside the serving one
 * (docs/rollout.md §5): `hold` compiles it exactly as `apply` does but does not swap it in;
 * `promote` makes it the serving generation; `dropCandidate` forgets it. `apply` always drops
 * a held candidate (a SERVE push replaces both).
 */
import type { ConfigIssue } from '@spooky/config';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';

export interface GenerationRef {
  readonly scope: string;
  readonly seq: number;
  readonly digest: string;
}

export type ServingSource = 'none' | 'control-plane' | 'disk-cache' | 'local-file';

export type ApplyPhase = 'parse' | 'compile' | 'apply';

export type ApplyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly phase: ApplyPhase;
      /** True when the same bytes might apply later (e.g. a port briefly busy). */
      readonly retryable: boolean;
      readonly issues: readonly ConfigIssue[];
    };

/** A candidate held beside the serving generation and its share of new requests (percent). */
export interface HeldCandidateInfo {
  readonly ref: GenerationRef;
  readonly percent: number;
}

export interface ServingInfo {
  readonly ref: GenerationRef;
  readonly source: ServingSource;
  /** The held candidate; absent or null when none. */
  readonly candidate?: HeldCandidateInfo | null;
}

/** Refusal code of a candidate whose listener set differs from the serving generation's. */
export const LISTENERS_DIFFER_CODE = 'canary.listeners_differ';

export interface GenerationApplier {
  /** What is being served now (and the candidate beside it); null before the first successful apply. */
  serving(): ServingInfo | null;
  /**
   * Parse the canonical JSON, compile, open/keep listeners and swap atomically; drops a held
   * candidate. On failure nothing changed: the previous generation (and candidate) keep
   * serving. Resolves after the swap.
   */
  apply(payload: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult>;
  /**
   * Compiles `ref` like apply and holds it as the candidate beside the serving generation
   * (replacing an earlier candidate), taking `canary.percent` of new requests. Refused when
   * nothing is served, or (phase apply, non-retryable, LISTENERS_DIFFER_CODE) when its
   * listener set differs from the serving generation's. On failure nothing changed.
   */
  hold(payload: Uint8Array, ref: GenerationRef, canary: CanaryAssignment): Promise<ApplyResult>;
  /** The held candidate serves fully (source control-plane). Refused (apply, retryable) when none is held. */
  promote(): Promise<ApplyResult>;
  /** Drops the held candidate (a no-op when none); the serving generation stays. */
  dropCandidate(): Promise<void>;
}
