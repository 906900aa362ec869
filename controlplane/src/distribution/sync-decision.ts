/**
 * Pure per-node decisions of a staged rollout (docs/rollout.md §4–§5), on top of decidePush
 * (push-decision.ts), which keeps its rules for every message sent: one unanswered message per
 * stream, parking of NACKed digests per boot, the schema range. No I/O, no clock.
 *
 * What the node should hold (`DesiredState`) against what it holds (serving + candidate):
 *  - serve X: serves X, no candidate → in sync; holds X as its candidate, or serves X with a
 *    candidate beside it → Promote{X} (no payload; the latter drops the candidate: a rollback
 *    without a transfer); a Promote of X the node refused (Nack "transfer") → Push SERVE of X;
 *    otherwise Push SERVE of X (a node serving X from its disk cache is re-sent it, as before).
 *  - candidate C with a canary: the node must serve the scope's active generation (`base`)
 *    first — a node serving anything else (nothing, a stale generation, C itself) is sent the
 *    base as for "serve"; then: holds C as its candidate with the same percent → in sync;
 *    otherwise Push CANDIDATE of C with the canary numbers (a new percent is a new push).
 * The session's follow-ups (afterAnswer*) keep the view of what the node holds from its
 * Acks (Ack.candidate), Nacks and Reports.
 */
import type { ParkedDigest } from './parking.ts';
import type { CanarySpec, GenerationRef, NodeServingSource } from './ports.ts';
import {
  type AnswerEffect,
  afterAck,
  afterNack,
  afterPush,
  decidePush,
  type HeldCandidate,
  type PendingPush,
  type PushDecision,
  type SchemaRange,
  type SessionView,
} from './push-decision.ts';
import { type PushHow, SERVE } from './push-plan.ts';
import { sameDigest } from './wire-refs.ts';

export type SyncTarget = GenerationRef & { readonly schemaVersion?: number };

export type DesiredState =
  | { readonly mode: 'serve'; readonly target: SyncTarget }
  /** `base`: the scope's active generation, served beside the candidate; null when none is active. */
  | { readonly mode: 'candidate'; readonly target: SyncTarget; readonly canary: CanarySpec; readonly base: SyncTarget | null };

export type SyncDecision =
  | Exclude<PushDecision, { readonly kind: 'push' | 'schema-unsupported' }>
  /** `target` (the desired generation, or the base sent first) is outside the node's schema range. */
  | { readonly kind: 'schema-unsupported'; readonly schemaVersion: number; readonly target: GenerationRef }
  | { readonly kind: 'push'; readonly target: GenerationRef; readonly how: PushHow }
  | { readonly kind: 'promote'; readonly target: GenerationRef };

export interface SyncInput {
  readonly desired: DesiredState | null;
  readonly session: SessionView;
  /** Parking entry of `digest` under this node's boot, if any. */
  readonly parkedOf: (digest: string) => ParkedDigest | undefined;
  readonly nowMs: number;
  readonly servingSource?: NodeServingSource;
  readonly schemaRange?: SchemaRange;
}

/** Two canary shares are the same assignment (they travel as doubles). */
const PERCENT_EPSILON = 1e-9;

export function decideSync(input: SyncInput): SyncDecision {
  const { desired, session } = input;
  if (desired === null) return { kind: 'idle' };
  if (desired.mode === 'serve') return decideServe(input, desired.target);
  if (desired.base !== null && !sameDigest(session.serving, desired.base) && session.pending === null) {
    return decideServe(input, desired.base);
  }
  const held = session.candidate ?? null;
  if (session.pending === null && held !== null && sameDigest(held.ref, desired.target) && Math.abs(held.percent - desired.canary.percent) < PERCENT_EPSILON) {
    return { kind: 'in-sync' };
  }
  const d = checked(input, desired.target);
  return d.kind === 'push' ? { ...d, how: { mode: 'candidate', canary: desired.canary } } : d;
}

function decideServe(input: SyncInput, target: SyncTarget): SyncDecision {
  const { session } = input;
  const held = session.candidate ?? null;
  if (session.pending === null && held === null && sameDigest(session.serving, target) && input.servingSource !== 'disk-cache') {
    return { kind: 'in-sync' };
  }
  const d = checked(input, target);
  if (d.kind !== 'push') return d;
  const holdsIt = sameDigest(held?.ref ?? null, target) || (held !== null && sameDigest(session.serving, target));
  if (holdsIt && session.promoteRefused !== target.digest) return { kind: 'promote', target: d.target };
  return d;
}

/** decidePush's pending/schema/parking rules for `target`, never "in sync" (the caller decided that). */
function checked(input: SyncInput, target: SyncTarget): Exclude<SyncDecision, { readonly kind: 'promote' }> {
  const d = decidePush({
    desired: target,
    session: { ...input.session, serving: null },
    parked: input.parkedOf(target.digest),
    nowMs: input.nowMs,
    ...(input.schemaRange !== undefined ? { schemaRange: input.schemaRange } : {}),
  });
  if (d.kind === 'schema-unsupported') return { ...d, target: { scope: target.scope, seq: target.seq, digest: target.digest } };
  return d.kind === 'push' ? { kind: 'push', target: d.target, how: SERVE } : d;
}

/** The view after `decision` (a push or a Promote) was sent under `nonce`. */
export function afterSend(session: SessionView, nonce: string, decision: Extract<SyncDecision, { kind: 'push' | 'promote' }>): SessionView {
  let pending: PendingPush;
  if (decision.kind === 'promote') pending = { nonce, target: decision.target, kind: 'promote' };
  else if (decision.how.mode === 'candidate') pending = { nonce, target: decision.target, kind: 'candidate', percent: decision.how.canary.percent };
  else pending = { nonce, target: decision.target, kind: 'serve' };
  return afterPush(session, pending);
}

/**
 * An Ack. `candidate` (Ack.candidate): the node holds `applied` as its candidate and keeps
 * serving what it served; otherwise it serves `applied` fully and holds no candidate (a SERVE
 * push and a Promote both drop it).
 */
export function afterAnswerAck(session: SessionView, nonce: string, applied: GenerationRef | null, candidate: boolean): AnswerEffect {
  const pending = session.pending;
  if (pending === null || pending.nonce !== nonce) return { session, matched: false };
  if (candidate) {
    const ref = applied ?? pending.target;
    return { session: { ...session, pending: null, candidate: { ref, percent: pending.percent ?? 0 } }, matched: true };
  }
  const effect = afterAck(session, nonce, applied);
  return { session: { ...effect.session, candidate: null, promoteRefused: null }, matched: true };
}

/**
 * A Nack. Answering a pending Promote with phase "transfer": the node does not hold the target,
 * so it is pushed next (`promoteRefused`); `refusedPromote` tells the caller not to record it
 * as a rejection. Any Nack of the node's candidate (the answer to its push, or a later in-node
 * canary fall-back with phase "canary") means the node no longer holds it.
 */
export function afterAnswerNack(
  session: SessionView,
  nonce: string,
  rejected: GenerationRef | null,
  stillServing: GenerationRef | null,
  phase: string,
): AnswerEffect & { readonly refusedPromote: boolean } {
  const held = session.candidate ?? null;
  const dropped = held !== null && rejected !== null && sameDigest(held.ref, rejected);
  const base: SessionView = dropped ? { ...session, candidate: null } : session;
  const pending = session.pending;
  if (pending === null || pending.nonce !== nonce) return { session: base, matched: false, refusedPromote: false };
  if (pending.kind === 'promote' && phase === 'transfer') {
    const promoteHeld = held !== null && sameDigest(held.ref, pending.target) ? null : base.candidate ?? null;
    return {
      session: { ...base, pending: null, candidate: promoteHeld, promoteRefused: pending.target.digest, ...(stillServing !== null ? { serving: stillServing } : {}) },
      matched: true,
      refusedPromote: true,
    };
  }
  return { ...afterNack(base, nonce, stillServing), refusedPromote: false };
}

/** A Report (or Hello) says what the node serves and holds now; pending and queued are untouched. */
export function afterNodeState(session: SessionView, serving: GenerationRef | null, candidate: HeldCandidate | null): SessionView {
  return { ...session, serving, candidate };
}
