import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeParking } from './parking.ts';
import type { GenerationRef } from './ports.ts';
import { afterAck, afterNack, afterPush, afterPushTimeout, decidePush, type SessionView } from './push-decision.ts';

const ref = (seq: number): GenerationRef => ({ scope: 's', seq, digest: `sha256:${String(seq).padStart(64, '0')}` });
const fresh = (serving: GenerationRef | null = null): SessionView => ({ serving, pending: null, queued: null });

describe('decidePush', () => {
  it('is idle before any activation and in sync when the node serves the desired digest', () => {
    assert.deepEqual(decidePush({ desired: null, session: fresh(), parked: undefined, nowMs: 0 }), { kind: 'idle' });
    assert.deepEqual(decidePush({ desired: ref(1), session: fresh(ref(1)), parked: undefined, nowMs: 0 }), {
      kind: 'in-sync',
    });
  });

  it('pushes when desired differs from serving', () => {
    assert.deepEqual(decidePush({ desired: ref(2), session: fresh(ref(1)), parked: undefined, nowMs: 0 }), {
      kind: 'push',
      target: ref(2),
    });
  });

  it('coalesces: while a push is pending only the newest target is remembered, then decided again', () => {
    let session = afterPush(fresh(ref(1)), { nonce: 'n1', target: ref(2) });
    for (const seq of [3, 4, 5]) {
      const d = decidePush({ desired: ref(seq), session, parked: undefined, nowMs: 0 });
      assert.equal(d.kind, 'wait-pending');
      if (d.kind === 'wait-pending') session = { ...session, queued: d.queued };
    }
    assert.deepEqual(session.queued, ref(5));
    const waitSame = decidePush({ desired: ref(2), session, parked: undefined, nowMs: 0 });
    assert.deepEqual(waitSame, { kind: 'wait-pending', queued: null });

    const acked = afterAck(session, 'n1', ref(2));
    assert.equal(acked.matched, true);
    assert.deepEqual(acked.session.serving, ref(2));
    assert.deepEqual(decidePush({ desired: ref(5), session: acked.session, parked: undefined, nowMs: 0 }), {
      kind: 'push',
      target: ref(5),
    });
  });

  it('an answer with an old nonce moves nothing', () => {
    const session = afterPush(fresh(ref(1)), { nonce: 'n2', target: ref(2) });
    assert.equal(afterAck(session, 'old', ref(9)).matched, false);
    assert.equal(afterAck(session, 'old', ref(9)).session, session);
    assert.equal(afterNack(session, 'old', ref(1)).matched, false);
  });

  it('a nack frees the slot and keeps what the node still serves', () => {
    const session = afterPush(fresh(ref(1)), { nonce: 'n2', target: ref(2) });
    const nacked = afterNack(session, 'n2', ref(1));
    assert.equal(nacked.matched, true);
    assert.deepEqual(nacked.session, { serving: ref(1), pending: null, queued: null });
  });
});

describe('decidePush with parking', () => {
  it('never re-sends a digest parked by a non-retryable nack during the same boot', () => {
    const parking = new NodeParking();
    parking.enterBoot('n', 'boot-1');
    parking.park('n', 'boot-1', ref(2).digest, false, 0);
    for (const nowMs of [0, 60_000, 3_600_000]) {
      const parked = parking.get('n', 'boot-1', ref(2).digest);
      assert.deepEqual(decidePush({ desired: ref(2), session: fresh(ref(1)), parked, nowMs }), { kind: 'parked' });
    }
    // A newer generation is not parked.
    const other = parking.get('n', 'boot-1', ref(3).digest);
    assert.equal(decidePush({ desired: ref(3), session: fresh(ref(1)), parked: other, nowMs: 0 }).kind, 'push');
  });

  it('a new boot id clears parking', () => {
    const parking = new NodeParking();
    parking.enterBoot('n', 'boot-1');
    parking.park('n', 'boot-1', ref(2).digest, false, 0);
    parking.enterBoot('n', 'boot-2');
    const parked = parking.get('n', 'boot-2', ref(2).digest);
    assert.equal(parked, undefined);
    assert.equal(decidePush({ desired: ref(2), session: fresh(ref(1)), parked, nowMs: 0 }).kind, 'push');
    // Same boot again keeps what it has.
    parking.park('n', 'boot-2', ref(2).digest, false, 0);
    parking.enterBoot('n', 'boot-2');
    assert.equal(parking.get('n', 'boot-2', ref(2).digest)?.retryable, false);
  });

  it('a retryable nack retries after its backoff', () => {
    const parking = new NodeParking({ baseMs: 1_000, capMs: 60_000 });
    const entry = parking.park('n', 'b', ref(2).digest, true, 10_000);
    assert.equal(entry.retryAtMs, 11_000);
    const early = decidePush({ desired: ref(2), session: fresh(ref(1)), parked: entry, nowMs: 10_500 });
    assert.deepEqual(early, { kind: 'backoff', retryAtMs: 11_000 });
    const due = decidePush({ desired: ref(2), session: fresh(ref(1)), parked: entry, nowMs: 11_000 });
    assert.equal(due.kind, 'push');
  });
});

describe('decidePush: schema range, disk-cache adoption, push timeout', () => {
  it('never pushes a generation whose schema version is outside the node range', () => {
    const v2 = { ...ref(2), schemaVersion: 2 };
    const base = { desired: v2, session: fresh(ref(1)), parked: undefined, nowMs: 0 };
    assert.deepEqual(decidePush({ ...base, schemaRange: { min: 1, max: 1 } }), { kind: 'schema-unsupported', schemaVersion: 2 });
    assert.deepEqual(decidePush({ ...base, schemaRange: { min: 3, max: 4 } }), { kind: 'schema-unsupported', schemaVersion: 2 });
    assert.equal(decidePush({ ...base, schemaRange: { min: 1, max: 2 } }).kind, 'push');
    // No range declared (max 0) or no schema version known: not checked.
    assert.equal(decidePush({ ...base, schemaRange: { min: 0, max: 0 } }).kind, 'push');
    assert.equal(decidePush({ ...base, desired: ref(2), schemaRange: { min: 1, max: 1 } }).kind, 'push');
    // A node already serving it is in sync whatever its range says.
    assert.equal(decidePush({ ...base, session: fresh(ref(2)), schemaRange: { min: 1, max: 1 } }).kind, 'in-sync');
  });

  it('re-pushes the served digest once when it came from the disk cache', () => {
    const base = { desired: ref(1), session: fresh(ref(1)), parked: undefined, nowMs: 0 };
    assert.equal(decidePush({ ...base, servingSource: 'disk-cache' }).kind, 'push');
    assert.equal(decidePush({ ...base, servingSource: 'control-plane' }).kind, 'in-sync');
    assert.equal(decidePush(base).kind, 'in-sync');
  });

  it('a push timeout frees the slot only for the pending nonce', () => {
    const pending = afterPush(fresh(ref(1)), { nonce: 'n1', target: ref(2) });
    assert.deepEqual(afterPushTimeout(pending, 'other'), { session: pending, matched: false });
    const freed = afterPushTimeout(pending, 'n1');
    assert.ok(freed.matched);
    assert.deepEqual(freed.session, fresh(ref(1)));
    assert.equal(decidePush({ desired: ref(2), session: freed.session, parked: undefined, nowMs: 0 }).kind, 'push');
    // A late Ack for the abandoned nonce moves nothing.
    assert.equal(afterAck(freed.session, 'n1', ref(2)).matched, false);
  });
});
