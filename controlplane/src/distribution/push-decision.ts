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
 *    then re-sent no earlier than its retry time;
 *  - a generation whose schema version is outside the node's declared range is never sent;
 *  - a node serving the desired digest from its disk cache is sent it once more, so it adopts
 *    it from the control plane (fresh cache timestamp, source control-plane);
 *  - a push unanswered for too long is abandoned (afterPushTimeout): the slot is free and the
 *    next trigger (report, activation) decides again.
 */
import type { ParkedDigest } from './parking.ts';
import type { GenerationRef, NodeServingSource } from './ports.ts';
import { sameDigest } from './wire-refs.ts';

export interface PendingPush {
  readonly nonce: string;
  readonly target: GenerationRef;
  /** What was sent (sync-decision.ts); absent: a SERVE push. */
  readonly kind?: 'serve' | 'candidate' | 'promote';
  /** The canary share of a candidate push (what the node holds once it ACKs). */
  readonly percent?: number;
}

export interface SessionView {
  readonly serving: GenerationRef | null;
  readonly pending: PendingPush | null;
  /** Newest target seen while a push was pending; informational, re-decided on answer. */
  readonly queued: GenerationRef | null;
  /** The candidate the node holds beside `serving` (sync-decision.ts); absent or null: none. */
  readonly candidate?: HeldCandidate | null;
  /** Digest of a Promote the node refused (does not hold it): serve it by a push instead. */
  readonly promoteRefused?: string | null;
}

export interface HeldCandidate {
  readonly ref: GenerationRef;
  readonly percent: number;
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
  /** The desired generation's schema version is outside the node's range: never sent to it. */
  | { readonly kind: 'schema-unsupported'; readonly schemaVersion: number }
  /** The desired digest was NACKed as retryable: decide again at `retryAtMs`. */
  | { readonly kind: 'backoff'; readonly retryAtMs: number }
  | { readonly kind: 'push'; readonly target: GenerationRef };

export interface SchemaRange {
  readonly min: number;
  readonly max: number;
}

export interface DecideInput {
  readonly desired: (GenerationRef & { readonly schemaVersion?: number }) | null;
  readonly session: SessionView;
  /** Parking entry for desired.digest under this node's boot, if any. */
  readonly parked: ParkedDigest | undefined;
  readonly nowMs: number;
  /** Where the node's serving generation came from; 'disk-cache' is re-pushed to be adopted. */
  readonly servingSource?: NodeServingSource;
  /** The node's declared schema range; absent (or max 0, an old Hello): not checked. */
  readonly schemaRange?: SchemaRange;
}

export function decidePush(input: DecideInput): PushDecision {
  const { desired, session, parked, nowMs, schemaRange } = input;
  if (desired === null) return { kind: 'idle' };
  if (session.pending !== null) {
    const queued = sameDigest(session.pending.target, desired) ? null : desired;
    return { kind: 'wait-pending', queued };
  }
  if (sameDigest(session.serving, desired) && input.servingSource !== 'disk-cache') return { kind: 'in-sync' };
  const version = desired.schemaVersion;
  if (version !== undefined && schemaRange !== undefined && schemaRange.max > 0) {
    if (version < schemaRange.min || version > schemaRange.max) return { kind: 'schema-unsupported', schemaVersion: version };
  }
  if (parked !== undefined) {
    if (!parked.retryable) return { kind: 'parked' };
    if (nowMs < parked.retryAtMs) return { kind: 'backoff', retryAtMs: parked.retryAtMs };
  }
  return { kind: 'push', target: desired };
}

/** The session after a push was sent. */
export function afterPush(session: SessionView, pending: PendingPush): SessionView {
  return { ...session, pending, queued: null };
}

export type AnswerEffect = { readonly session: SessionView; readonly matched: boolean };

/**
 * An Ack: when it answers the pending push the node now serves `applied`; an Ack with another
 * nonce (an old push) is recorded by the caller but moves nothing.
 */
export function afterAck(session: SessionView, nonce: string, applied: GenerationRef | null): AnswerEffect {
  if (session.pending === null || session.pending.nonce !== nonce) return { session, matched: false };
  const serving = applied ?? session.pending.target;
  return { session: { ...session, serving, pending: null }, matched: true };
}

/**
 * A Nack: when it answers the pending push the slot is free again and the node keeps serving
 * what it says it still serves. Another nonce moves nothing.
 */
export function afterNack(session: SessionView, nonce: string, stillServing: GenerationRef | null): AnswerEffect {
  if (session.pending === null || session.pending.nonce !== nonce) return { session, matched: false };
  return { session: { ...session, serving: stillServing, pending: null }, matched: true };
}

/**
 * The pending push got no answer in time: when `nonce` is still the pending one the slot is
 * free again (what the node serves is unknown until its next Report or answer; keep the last
 * known). A late answer for that nonce is then an old one: recorded, moves nothing.
 */
export function afterPushTimeout(session: SessionView, nonce: string): AnswerEffect {
  if (session.pending === null || session.pending.nonce !== nonce) return { session, matched: false };
  return { session: { ...session, pending: null }, matched: true };
}

/** A Report says what the node serves now; pending and queued are untouched. */
export function afterReport(session: SessionView, serving: GenerationRef | null): SessionView {
  return { ...session, serving };
}
