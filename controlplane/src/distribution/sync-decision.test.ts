import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParkedDigest } from './parking.ts';
import type { CanarySpec, GenerationRef, NodeServingSource } from './ports.ts';
import type { HeldCandidate, SessionView } from './push-decision.ts';
import { SERVE } from './push-plan.ts';
import { afterAnswerAck, afterAnswerNack, afterNodeState, afterSend, type DesiredState, decideSync, type SyncDecision } from './sync-decision.ts';

const ref = (seq: number): GenerationRef => ({ scope: 's', seq, digest: `sha256:${String(seq).padStart(64, '0')}` });
const canary = (percent: number): CanarySpec => ({ percent, crashWindowMs: 60_000, minRequests: 50, maxErrorRatio: 0.05, maxErrorIncrease: 0.01, maxP99Factor: 1.5, minP99IncreaseMs: 20 });
const held = (seq: number, percent = 5): HeldCandidate => ({ ref: ref(seq), percent });
const view = (serving: GenerationRef | null, candidate: HeldCandidate | null = null, promoteRefused: string | null = null): SessionView => ({
  serving,
  pending: null,
  queued: null,
  candidate,
  promoteRefused,
});
const serve = (seq: number): DesiredState => ({ mode: 'serve', target: ref(seq) });
const cand = (seq: number, percent = 5, base: number | null = 1): DesiredState => ({ mode: 'candidate', target: ref(seq), canary: canary(percent), base: base === null ? null : ref(base) });
const pushServe = (seq: number): SyncDecision => ({ kind: 'push', target: ref(seq), how: SERVE });
const pushCand = (seq: number, percent = 5): SyncDecision => ({ kind: 'push', target: ref(seq), how: { mode: 'candidate', canary: canary(percent) } });
const promote = (seq: number): SyncDecision => ({ kind: 'promote', target: ref(seq) });

interface Row {
  readonly name: string;
  readonly desired: DesiredState | null;
  readonly session: SessionView;
  readonly parked?: Record<string, ParkedDigest>;
  readonly source?: NodeServingSource;
  readonly schema?: { min: number; max: number };
  readonly want: SyncDecision;
}

const parkedForGood = (seq: number): Record<string, ParkedDigest> => ({
  [ref(seq).digest]: { digest: ref(seq).digest, retryable: false, failures: 1, retryAtMs: Number.POSITIVE_INFINITY },
});

const rows: Row[] = [
  { name: 'nothing active, no assignment: idle', desired: null, session: view(null), want: { kind: 'idle' } },
  // serve X
  { name: 'serve X, node serves X, no candidate: in sync', desired: serve(2), session: view(ref(2)), want: { kind: 'in-sync' } },
  { name: 'serve X, node serves another: push SERVE', desired: serve(2), session: view(ref(1)), want: pushServe(2) },
  { name: 'serve X, node serves nothing: push SERVE', desired: serve(2), session: view(null), want: pushServe(2) },
  { name: 'serve X, node holds X as candidate: Promote X', desired: serve(2), session: view(ref(1), held(2)), want: promote(2) },
  { name: 'serve X, node serves X with candidate Y: Promote X (drops Y)', desired: serve(1), session: view(ref(1), held(2)), want: promote(1) },
  { name: 'serve X, node holds another candidate and serves another: push SERVE', desired: serve(3), session: view(ref(1), held(2)), want: pushServe(3) },
  { name: 'serve X, Promote of X refused before: push SERVE', desired: serve(2), session: view(ref(1), held(2), ref(2).digest), want: pushServe(2) },
  { name: 'serve X from the disk cache, no candidate: re-pushed to be adopted', desired: serve(1), session: view(ref(1)), source: 'disk-cache', want: pushServe(1) },
  { name: 'serve X parked for good: parked (no Promote either)', desired: serve(2), session: view(ref(1), held(2)), parked: parkedForGood(2), want: { kind: 'parked' } },
  {
    name: 'serve X outside the schema range: refused',
    desired: { mode: 'serve', target: { ...ref(2), schemaVersion: 3 } },
    session: view(ref(1)),
    schema: { min: 1, max: 2 },
    want: { kind: 'schema-unsupported', schemaVersion: 3, target: ref(2) },
  },
  // candidate C
  { name: 'candidate C, node serves base, holds nothing: push CANDIDATE', desired: cand(2), session: view(ref(1)), want: pushCand(2) },
  { name: 'candidate C, node holds C at the same percent: in sync', desired: cand(2), session: view(ref(1), held(2, 5)), want: { kind: 'in-sync' } },
  { name: 'candidate C, node holds C at another percent: push CANDIDATE', desired: cand(2, 10), session: view(ref(1), held(2, 5)), want: pushCand(2, 10) },
  { name: 'candidate C, node holds another candidate: push CANDIDATE', desired: cand(3), session: view(ref(1), held(2)), want: pushCand(3) },
  { name: 'candidate C, node serves nothing: the base first', desired: cand(2), session: view(null), want: pushServe(1) },
  { name: 'candidate C, node serves C itself: the base first', desired: cand(2), session: view(ref(2)), want: pushServe(1) },
  { name: 'candidate C, no active generation: push CANDIDATE', desired: cand(2, 5, null), session: view(null), want: pushCand(2) },
  { name: 'candidate C, base from the disk cache: no re-push, CANDIDATE', desired: cand(2), session: view(ref(1)), source: 'disk-cache', want: pushCand(2) },
  { name: 'candidate C NACKed for good this boot: parked', desired: cand(2), session: view(ref(1)), parked: parkedForGood(2), want: { kind: 'parked' } },
  {
    name: 'candidate C outside the schema range: refused',
    desired: { mode: 'candidate', target: { ...ref(2), schemaVersion: 3 }, canary: canary(5), base: ref(1) },
    session: view(ref(1)),
    schema: { min: 1, max: 2 },
    want: { kind: 'schema-unsupported', schemaVersion: 3, target: ref(2) },
  },
  {
    name: 'candidate C, node serves nothing, the base outside the schema range: refused naming the base',
    desired: { mode: 'candidate', target: ref(2), canary: canary(5), base: { ...ref(1), schemaVersion: 3 } },
    session: view(null),
    schema: { min: 1, max: 2 },
    want: { kind: 'schema-unsupported', schemaVersion: 3, target: ref(1) },
  },
  // one message at a time
  {
    name: 'anything while a message is pending: wait',
    desired: serve(3),
    session: { ...view(ref(1)), pending: { nonce: 'n', target: ref(2), kind: 'candidate', percent: 5 } },
    want: { kind: 'wait-pending', queued: ref(3) },
  },
];

describe('decideSync (table)', () => {
  for (const row of rows) {
    it(row.name, () => {
      const got = decideSync({
        desired: row.desired,
        session: row.session,
        parkedOf: (digest) => row.parked?.[digest],
        nowMs: 0,
        ...(row.source !== undefined ? { servingSource: row.source } : {}),
        ...(row.schema !== undefined ? { schemaRange: row.schema } : {}),
      });
      assert.deepEqual(got, row.want);
    });
  }
});

describe('sync-decision follow-ups', () => {
  it('a candidate push ACKed as candidate: held beside the serving generation, then in sync', () => {
    const sent = afterSend(view(ref(1)), 'n1', { kind: 'push', target: ref(2), how: { mode: 'candidate', canary: canary(5) } });
    assert.deepEqual(sent.pending, { nonce: 'n1', target: ref(2), kind: 'candidate', percent: 5 });
    const acked = afterAnswerAck(sent, 'n1', ref(2), true);
    assert.ok(acked.matched);
    assert.deepEqual(acked.session.serving, ref(1));
    assert.deepEqual(acked.session.candidate, held(2, 5));
    assert.deepEqual(decideSync({ desired: cand(2), session: acked.session, parkedOf: () => undefined, nowMs: 0 }), { kind: 'in-sync' });
  });

  it('a Promote ACKed (not candidate): serves it, no candidate, in sync', () => {
    const sent = afterSend(view(ref(1), held(2)), 'p1', { kind: 'promote', target: ref(2) });
    const acked = afterAnswerAck(sent, 'p1', ref(2), false);
    assert.deepEqual(acked.session, { serving: ref(2), pending: null, queued: null, candidate: null, promoteRefused: null });
    assert.deepEqual(decideSync({ desired: serve(2), session: acked.session, parkedOf: () => undefined, nowMs: 0 }), { kind: 'in-sync' });
  });

  it('a Promote refused with Nack "transfer": not a rejection, the next decision is a push', () => {
    const sent = afterSend(view(ref(1), held(2)), 'p1', { kind: 'promote', target: ref(2) });
    const nacked = afterAnswerNack(sent, 'p1', ref(2), ref(1), 'transfer');
    assert.ok(nacked.matched);
    assert.ok(nacked.refusedPromote);
    assert.equal(nacked.session.candidate, null);
    assert.equal(nacked.session.promoteRefused, ref(2).digest);
    assert.deepEqual(decideSync({ desired: serve(2), session: nacked.session, parkedOf: () => undefined, nowMs: 0 }), pushServe(2));
    // Even when the node still reports holding it, no Promote loop.
    const reported = afterNodeState(nacked.session, ref(1), held(2));
    assert.deepEqual(decideSync({ desired: serve(2), session: reported, parkedOf: () => undefined, nowMs: 0 }), pushServe(2));
    // The push's ACK clears the refusal.
    const pushed = afterSend(reported, 'n2', { kind: 'push', target: ref(2), how: SERVE });
    assert.equal(afterAnswerAck(pushed, 'n2', ref(2), false).session.promoteRefused, null);
  });

  it('a Nack of a Promote in another phase is a rejection like any other', () => {
    const sent = afterSend(view(ref(1), held(2)), 'p1', { kind: 'promote', target: ref(2) });
    const nacked = afterAnswerNack(sent, 'p1', ref(2), ref(1), 'apply');
    assert.ok(nacked.matched);
    assert.equal(nacked.refusedPromote, false);
    assert.equal(nacked.session.candidate, null, 'the rejected candidate is no longer held');
  });

  it('a later canary fall-back Nack (old nonce) drops the held candidate', () => {
    const session = view(ref(1), held(2));
    const nacked = afterAnswerNack(session, 'old', ref(2), ref(1), 'canary');
    assert.equal(nacked.matched, false);
    assert.equal(nacked.refusedPromote, false);
    assert.equal(nacked.session.candidate, null);
    assert.deepEqual(nacked.session.serving, ref(1));
    // A Nack of something else leaves the candidate alone.
    assert.equal(afterAnswerNack(session, 'old', ref(3), ref(1), 'parse').session, session);
  });

  it('a SERVE push ACKed drops the candidate; answers with another nonce move nothing', () => {
    const sent = afterSend(view(ref(1), held(2)), 'n1', { kind: 'push', target: ref(1), how: SERVE });
    assert.equal(afterAnswerAck(sent, 'other', ref(1), false).matched, false);
    const acked = afterAnswerAck(sent, 'n1', ref(1), false);
    assert.equal(acked.session.candidate, null);
    assert.deepEqual(acked.session.serving, ref(1));
  });
});
