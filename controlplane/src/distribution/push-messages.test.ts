import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PUSH_CHUNK_BYTES } from '@spooky/proto';
import { pushMessages } from './push-messages.ts';

const target = { scope: 's', seq: 1, digest: 'sha256:x' };

describe('pushMessages', () => {
  it('sends a payload up to the chunk size inside the Push', () => {
    const payload = new Uint8Array(PUSH_CHUNK_BYTES).fill(7);
    const messages = pushMessages('n', target, payload);
    assert.equal(messages.length, 1);
    const push = messages[0]?.msg;
    assert.equal(push?.$case, 'push');
    if (push?.$case === 'push') {
      assert.equal(push.value.chunkCount, 0);
      assert.equal(push.value.payload.byteLength, PUSH_CHUNK_BYTES);
      assert.equal(push.value.totalSize, PUSH_CHUNK_BYTES);
    }
  });

  it('splits a larger payload into ordered chunks that add up to it', () => {
    const payload = new Uint8Array(2 * 10 + 3).map((_, i) => i);
    const messages = pushMessages('n', target, payload, 10);
    assert.equal(messages.length, 4);
    const head = messages[0]?.msg;
    assert.ok(head?.$case === 'push');
    assert.equal(head.value.chunkCount, 3);
    assert.equal(head.value.totalSize, 23);
    assert.equal(head.value.payload.byteLength, 0);
    const parts = messages.slice(1).map((m, i) => {
      assert.ok(m.msg?.$case === 'chunk');
      assert.equal(m.msg.value.index, i);
      assert.equal(m.msg.value.nonce, 'n');
      return m.msg.value.data;
    });
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), payload);
  });
});
