import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { FromControlPlane, PushMode } from '@spooky/proto';
import { pushMessages } from './push-messages.ts';
import { type PushHow, planMessages, pushPlan } from './push-plan.ts';

const target = { scope: 'prod', seq: 7, digest: `sha256:${'a'.repeat(64)}` };
const encode = (m: FromControlPlane): Buffer => Buffer.from(FromControlPlane.encode(m).finish());

/** The shared encoding must be exactly what encoding pushMessages' objects would send. */
function assertSameAsReference(payload: Uint8Array, nonce: string, chunkBytes: number, how?: PushHow): void {
  const plan = pushPlan(target, payload, chunkBytes);
  const encoded = planMessages(plan, nonce, how).map((m) => m.toBuffer());
  const reference = pushMessages(nonce, target, payload, chunkBytes, '', 0, how);
  assert.equal(encoded.length, reference.length);
  for (const [i, message] of reference.entries()) {
    assert.deepEqual(encoded[i], encode(message), `message ${i} differs from FromControlPlane.encode`);
    assert.deepEqual(FromControlPlane.decode(encoded[i] ?? Buffer.alloc(0)), FromControlPlane.decode(encode(message)));
  }
}

describe('pushPlan / planMessages', () => {
  it('a zstd plan chunks the compressed bytes and announces the canonical size', () => {
    const payload = Buffer.from(`{"pad":"${'z'.repeat(300_000)}"}`);
    const plan = pushPlan(target, payload, 10, 'zstd');
    assert.equal(plan.encoding, 'zstd');
    assert.equal(plan.decodedSize, payload.byteLength);
    assert.ok(plan.totalSize < payload.byteLength / 100);
    assert.ok(plan.totalSize > 10, 'chunked at 10 bytes');
    const messages = planMessages(plan, 'n').map((m) => FromControlPlane.decode(m.toBuffer()).msg);
    const head = messages[0];
    assert.ok(head?.$case === 'push');
    assert.equal(head.value.encoding, 'zstd');
    assert.equal(head.value.decodedSize, payload.byteLength);
    assert.equal(head.value.totalSize, plan.totalSize);
    const wire = Buffer.concat(messages.flatMap((m) => (m?.$case === 'chunk' ? [m.value.data] : [])));
    assert.deepEqual(zstdDecompressSync(wire), payload);
    // Byte for byte what the reference framing writes for the same wire bytes.
    const reference = pushMessages('n', target, wire, 10, 'zstd', payload.byteLength).map(encode);
    assert.deepEqual(planMessages(plan, 'n').map((m) => m.toBuffer()), reference);
  });

  it('falls back to identity when zstd would not make the payload smaller', () => {
    const plan = pushPlan(target, Buffer.from('{"a":1}'), 1024, 'zstd');
    assert.equal(plan.encoding, '');
    assert.equal(plan.totalSize, 7);
    const head = FromControlPlane.decode(planMessages(plan, 'n')[0]?.toBuffer() ?? Buffer.alloc(0)).msg;
    assert.ok(head?.$case === 'push');
    assert.equal(head.value.encoding, '');
    assert.equal(head.value.decodedSize, 0);
  });

  it('encodes an inline push byte for byte like FromControlPlane.encode', () => {
    assertSameAsReference(Buffer.from('{"version":1}'), 'n0nce', 1024);
  });

  it('encodes a chunked push (including a short last chunk and chunk index 0) like FromControlPlane.encode', () => {
    const payload = new Uint8Array(2 * 100 + 37).map((_, i) => i % 251);
    assertSameAsReference(payload, randomHex(12), 100);
    assertSameAsReference(payload.subarray(0, 200), randomHex(12), 100); // exactly two full chunks
    assertSameAsReference(payload.subarray(0, 100), randomHex(12), 100); // exactly the chunk size: inline
  });

  it('handles lengths whose varints take several bytes (long nonce, 300 KB chunks)', () => {
    assertSameAsReference(new Uint8Array(700_000).fill(9), 'x'.repeat(200), 300_000);
    assertSameAsReference(new Uint8Array(0), 'n', 10);
  });

  it('a CANDIDATE push shares the plan: mode and canary numbers ride in the tail, byte for byte like encode', () => {
    const canary = { percent: 2.5, crashWindowMs: 120_000, minRequests: 200, maxErrorRatio: 0.05, maxErrorIncrease: 0.01, maxP99Factor: 1.5, minP99IncreaseMs: 20 };
    const how: PushHow = { mode: 'candidate', canary };
    assertSameAsReference(Buffer.from('{"version":1}'), 'n0nce', 1024, how);
    const payload = new Uint8Array(250).fill(7);
    assertSameAsReference(payload, randomHex(12), 100, how);
    const plan = pushPlan(target, payload, 100);
    const candidate = planMessages(plan, 'n', how);
    const serve = planMessages(plan, 'n');
    assert.equal(candidate[0]?.body, serve[0]?.body, 'one shared body for both modes');
    const head = FromControlPlane.decode(candidate[0]?.toBuffer() ?? Buffer.alloc(0)).msg;
    assert.ok(head?.$case === 'push');
    assert.equal(head.value.mode, PushMode.PUSH_MODE_CANDIDATE);
    assert.deepEqual(head.value.canary, canary);
    assert.equal(head.value.chunkCount, 3);
    const served = FromControlPlane.decode(serve[0]?.toBuffer() ?? Buffer.alloc(0)).msg;
    assert.ok(served?.$case === 'push');
    assert.equal(served.value.mode, PushMode.PUSH_MODE_SERVE);
    assert.equal(served.value.canary, undefined);
    // Chunks carry no mode.
    assert.deepEqual(candidate.slice(1).map((m) => m.toBuffer()), serve.slice(1).map((m) => m.toBuffer()));
  });

  it('shares its encoded bodies: two pushes differ only in their nonce bytes', () => {
    const payload = new Uint8Array(250).fill(3);
    const plan = pushPlan(target, payload, 100);
    const a = planMessages(plan, 'a'.repeat(24));
    const b = planMessages(plan, 'b'.repeat(24));
    for (const [i, body] of plan.bodies.entries()) {
      assert.equal(a[i]?.body, body.bytes, 'the body is the shared buffer itself');
      assert.equal(b[i]?.body, body.bytes);
    }
    assert.equal(plan.bodies.length, 4);
    assert.equal(plan.totalSize, 250);
    assert.ok(plan.heldBytes >= 250 && plan.heldBytes < 250 + 4 * 200, `heldBytes ${plan.heldBytes}`);
    for (const [i, encoded] of a.entries()) {
      const message = encoded.toBuffer();
      const other = b[i]?.toBuffer() ?? Buffer.alloc(0);
      assert.equal(message.byteLength, other.byteLength);
      const differing = [...message].filter((byte, k) => byte !== other[k]).length;
      assert.equal(differing, 24, `message ${i}: only the nonce differs`);
    }
  });
});

describe('EncodedMessage.copy', () => {
  it('writes head then body at an offset, like Buffer#copy, and returns the length', () => {
    const plan = pushPlan(target, new Uint8Array(30).fill(5), 10);
    for (const message of planMessages(plan, 'nonce')) {
      const frame = Buffer.alloc(message.byteLength + 5, 0xee);
      assert.equal(message.copy(frame, 5), message.byteLength);
      assert.deepEqual(frame.subarray(0, 5), Buffer.alloc(5, 0xee));
      assert.deepEqual(frame.subarray(5), message.toBuffer());
    }
  });
});

function randomHex(bytes: number): string {
  return Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 37 + 11) % 256)).toString('hex');
}
