/**
 * Pure push decisions for one ConfigSync session: given what the scope should serve (desired),
 * what the node serves, the one push awaiting an answer (pending) and the parking state of the
 * desired digest for this node's boot, say what to do next. No I/O, no clock: `nowMs` is given.
 *
 * Rules (CONTROL-PLANE.md "gRPC ConfigSync"):
 *  - push only when desired differs from what the node serves;
 *  - at most one unanswered push per stream: while one is pending, a newer target is only
 *    remembered (`queued`, newest wins) and decided again once the pending push is answered;
 *  - a NACKed digest is parked for (node, boot): never re-sent unless the NACK was retryable,
 *    then re-sent no earlier than its retry time.
 */
import type { ParkedDigest } from './parking.ts';
import type { GenerationRef } from './ports.ts';
import { sameDigest } from './wire-refs.ts';

export interface PendingPush {
  readonly nonce: string;
  readonly target: GenerationRef;
}

export interface SessionView {
  readonly serving: GenerationRef | null;
  readonly pending: PendingPush | null;
  /** Newest target seen while a push was pending; informational, re-decided on answer. */
  readonly queued: GenerationRef | null;
}

export type PushDecision =
  /** No generation is active for the scope yet. */
  | { readonly kind: 'idle' }
  /** The node already serves the desired digest. */
  | { readonly kind: 'in-sync' }
  /** A push is unanswered; `queued` is the newer target to decide again after the answer. */
  | { readonly kind: 'wait-pending'; readonly queued: GenerationRef | null }
  /** The desired digest was NACKed (not retryable) during this boot: never re-sent. */
  | { readonly kind: 'parked' }
  /** The desired digest was NACKed as retryable: decide again at `retryAtMs`. */
  | { readonly kind: 'backoff'; readonly retryAtMs: number }
  | { readonly kind: 'push'; readonly target: GenerationRef };

export interface DecideInput {
  readonly desired: GenerationRef | null;
  readonly session: SessionView;
  /** Parking entry for desired.digest under this node's boot, if any. */
  readonly parked: ParkedDigest | undefined;
  readonly nowMs: number;
}

export function decidePush(input: DecideInput): PushDecision {
  const { desired, session, parked, nowMs } = input;
  if (desired === null) return { kind: 'idle' };
  if (session.pending !== null) {
    const queued = sameDigest(session.pending.target, desired) ? null : desired;
    return { kind: 'wait-pending', queued };
  }
  if (sameDigest(session.serving, desired)) return { kind: 'in-sync' };
  if (parked !== undefined) {
    if (!parked.retryable) return { kind: 'parked' };
    if (nowMs < parked.retryAtMs) return { kind: 'backoff', retryAtMs: parked.retryAtMs };
  }
  return { kind: 'push', target: desired };
}

/** The session after a push was sent. */
export function afterPush(session: SessionView, pending: PendingPush): SessionView {
  return { serving: session.serving, pending, queued: null };
}

export type AnswerEffect = { readonly session: SessionView; readonly matched: boolean };

/**
 * An Ack: when it answers the pending push the node now serves `applied`; an Ack with another
 * nonce (an old push) is recorded by the caller but moves nothing.
 */
export function afterAck(session: SessionView, nonce: string, applied: GenerationRef | null): AnswerEffect {
  if (session.pending === null || session.pending.nonce !== nonce) return { session, matched: false };
  const serving = applied ?? session.pending.target;
  return { session: { serving, pending: null, queued: session.queued }, matched: true };
}

/**
 * A Nack: when it answers the pending push the slot is free again and the node keeps serving
 * what it says it still serves. Another nonce moves nothing.
 */
export function afterNack(session: SessionView, nonce: string, stillServing: GenerationRef | null): AnswerEffect {
  if (session.pending === null || session.pending.nonce !== nonce) return { session, matched: false };
  return { session: { serving: stillServing, pending: null, queued: session.queued }, matched: true };
}

/** A Report says what the node serves now; pending and queued are untouched. */
export function afterReport(session: SessionView, serving: GenerationRef | null): SessionView {
  return { serving, pending: session.pending, queued: session.queued };
}
