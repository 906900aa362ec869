/**
 * Which encoding a push travels in, and the encoding itself. A node lists the encodings it can
 * decode in its Hello (accept_encodings); identity ("") is always understood, so a node that
 * lists none (an older build) gets the canonical bytes as before. zstd is applied once per
 * generation (the encoded push is shared by every session, push-plan.ts), at level 1: a
 * ~4 MiB canonical document takes ~2–10 ms to compress on the bench machine, and the
 * sessions then carry, copy and hash a fraction of the bytes. The digest stays the one of the
 * canonical bytes: the node decodes, then checks it.
 */
import { constants, zstdCompressSync } from 'node:zlib';
import { PUSH_ENCODING_ZSTD } from '@spooky/proto';

export type PushEncoding = '' | typeof PUSH_ENCODING_ZSTD;

/** The encoding to push to a node that accepts `accepted` (its Hello.accept_encodings). */
export function chooseEncoding(accepted: readonly string[]): PushEncoding {
  return accepted.includes(PUSH_ENCODING_ZSTD) ? PUSH_ENCODING_ZSTD : '';
}

/**
 * The bytes to put on the wire for `payload` under `encoding`, and the encoding they are
 * really in: identity when the encoded form would not be smaller (then nothing is gained and
 * the node skips a decode).
 */
export function encodePayload(payload: Buffer, encoding: PushEncoding): { readonly bytes: Buffer; readonly encoding: PushEncoding } {
  if (encoding === '' || payload.byteLength === 0) return { bytes: payload, encoding: '' };
  const encoded = zstdCompressSync(payload, {
    params: { [constants.ZSTD_c_compressionLevel]: 1, [constants.ZSTD_c_contentSizeFlag]: 1 },
  });
  return encoded.byteLength < payload.byteLength ? { bytes: encoded, encoding } : { bytes: payload, encoding: '' };
}
