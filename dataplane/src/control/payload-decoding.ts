/**
 * Decodes a pushed payload (Push.encoding, proto/spooky/v1/config_sync.proto) into the
 * canonical bytes whose digest the push names. Only encodings this build lists in its Hello
 * (ACCEPTED_ENCODINGS) are decoded; anything else is a broken transfer. The decoded size is
 * bounded before any output is produced (zlib's maxOutputLength = the announced decoded_size,
 * itself at most MAX_ASSEMBLED_BYTES) and must match exactly: a zstd bomb costs at most that
 * much memory. The digest is checked by the caller (push-answer.ts), after decoding.
 */
import { zstdDecompressSync } from 'node:zlib';
import { PUSH_ENCODING_ZSTD } from '@spooky/proto';

/** Hello.accept_encodings of this build. */
export const ACCEPTED_ENCODINGS: readonly string[] = [PUSH_ENCODING_ZSTD];

export type Decoded = { readonly ok: true; readonly payload: Buffer } | { readonly ok: false; readonly reason: string };

export function decodePayload(wire: Buffer, encoding: string, decodedSize: number, maxBytes: number): Decoded {
  if (encoding === '') return { ok: true, payload: wire };
  if (encoding !== PUSH_ENCODING_ZSTD) return { ok: false, reason: `unsupported push encoding ${JSON.stringify(encoding.slice(0, 32))}` };
  if (decodedSize > maxBytes) return { ok: false, reason: `decoded_size ${decodedSize} exceeds ${maxBytes}` };
  let payload: Buffer;
  try {
    // maxOutputLength 0 would mean "no limit"; an empty document is never encoded anyway.
    payload = zstdDecompressSync(wire, { maxOutputLength: Math.max(1, decodedSize) });
  } catch (err) {
    return { ok: false, reason: `zstd payload does not decode within decoded_size ${decodedSize}: ${(err as Error).message.slice(0, 100)}` };
  }
  if (payload.byteLength !== decodedSize) {
    return { ok: false, reason: `zstd payload decodes to ${payload.byteLength} bytes, decoded_size says ${decodedSize}` };
  }
  return { ok: true, payload };
}
