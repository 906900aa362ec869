/**
 * Turns one push into the messages that carry it. A payload up to `chunkBytes` travels inside
 * the Push; a larger one is announced by Push{chunk_count, total_size} (empty payload) and
 * followed, in order, by `chunk_count` Chunk messages with the same nonce, so every message
 * stays under MAX_MESSAGE_BYTES whatever the generation's size. `payload` is the bytes on the
 * wire: already encoded when `encoding` is not "" (then `decodedSize` is the canonical size).
 */
import { type FromControlPlane, PUSH_CHUNK_BYTES } from '@spooky/proto';
import type { GenerationRef } from './ports.ts';
import { type PushHow, SERVE, wireMode } from './push-plan.ts';
import { toWireRef } from './wire-refs.ts';

export function pushMessages(
  nonce: string,
  target: GenerationRef,
  payload: Uint8Array,
  chunkBytes: number = PUSH_CHUNK_BYTES,
  encoding = '',
  decodedSize = 0,
  how: PushHow = SERVE,
): FromControlPlane[] {
  const { mode, canary } = wireMode(how);
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const wireTarget = toWireRef(target);
  if (bytes.byteLength <= chunkBytes) {
    return [
      {
        msg: {
          $case: 'push',
          value: { nonce, target: wireTarget, payload: bytes, chunkCount: 0, totalSize: bytes.byteLength, encoding, decodedSize, mode, canary },
        },
      },
    ];
  }
  const chunkCount = Math.ceil(bytes.byteLength / chunkBytes);
  const messages: FromControlPlane[] = [
    {
      msg: {
        $case: 'push',
        value: { nonce, target: wireTarget, payload: Buffer.alloc(0), chunkCount, totalSize: bytes.byteLength, encoding, decodedSize, mode, canary },
      },
    },
  ];
  for (let index = 0; index < chunkCount; index++) {
    const data = bytes.subarray(index * chunkBytes, (index + 1) * chunkBytes);
    messages.push({ msg: { $case: 'chunk', value: { nonce, index, data } } });
  }
  return messages;
}

/** A Promote of `target` (the node holds it already: serve it fully, drop every other generation). */
export function promoteMessage(nonce: string, target: GenerationRef): FromControlPlane {
  return { msg: { $case: 'promote', value: { nonce, target: toWireRef(target) } } };
}
