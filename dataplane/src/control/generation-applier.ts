/**
 * Port between the control-plane client (control/) and the process that serves traffic.
 * control/ receives and verifies a generation's bytes; the applier parses, compiles, prepares
 * listeners and swaps. Implemented in main.ts's wiring; control/ never imports ingress/runtime.
 */
import type { ConfigIssue } from '@spooky/config';

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

export interface GenerationApplier {
  /** What is being served now; null before the first successful apply. */
  serving(): { readonly ref: GenerationRef; readonly source: ServingSource } | null;
  /**
   * Parse the canonical JSON, compile, open/keep listeners and swap atomically. On failure
   * nothing changed: the previous generation keeps serving. Resolves after the swap.
   */
  apply(payload: Uint8Array, ref: GenerationRef, source: ServingSource): Promise<ApplyResult>;
}
