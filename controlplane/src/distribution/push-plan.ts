/**
 * A generation's push, encoded once and shared by every session that sends it.
 *
 * The framing is pushMessages' (push-messages.ts): a Push carrying the payload, or a Push
 * announcing `chunk_count` Chunks. Everything in those messages except the nonce is the same
 * for every session, so `pushPlan` encodes each message once WITHOUT its nonce (proto3 omits an
 * empty string) and `planMessages` prepends, per push, the oneof envelope and the nonce field
 * (field 1, so the bytes are the very ones FromControlPlane.encode would write). A push then
 * costs one copy of the payload per session (gRPC's, into its frame), instead of re-reading,
 * re-chunking and re-encoding the generation for each node.
 *
 * The plan does not keep the payload itself: its message bodies are the one copy a snapshot
 * holds (desired-snapshots.ts). A plan is for one encoding (push-encoding.ts): with zstd, the
 * payload is compressed once here and the compressed bytes are what is chunked and shared.
 *
 * The Push body is encoded without its mode (fields 8 and 9): `planMessages` appends them per
 * push as a small tail (pushTail), so one shared plan serves SERVE pushes and CANDIDATE pushes
 * with any canary numbers. Fields 1 (nonce, head) … 7 (body), 8–9 (tail) are in field order,
 * which is what Push.encode writes, so the bytes stay identical to it.
 */
import { type CanaryAssignment, Chunk, PUSH_CHUNK_BYTES, Push, PushMode } from '@spooky/proto';
import type { CanarySpec, GenerationRef } from './ports.ts';
import { encodePayload, type PushEncoding } from './push-encoding.ts';
import { toWireRef } from './wire-refs.ts';

/** FromControlPlane oneof fields (proto/spooky/v1/config_sync.proto). */
const PUSH_FIELD = 2;
const CHUNK_FIELD = 3;
const WIRE_LEN = 2;
/** Field 1, length-delimited: the nonce of Push and of Chunk. */
const NONCE_TAG = (1 << 3) | WIRE_LEN;

interface EncodedBody {
  /** The FromControlPlane field the body is wrapped in. */
  readonly field: typeof PUSH_FIELD | typeof CHUNK_FIELD;
  /** Push or Chunk encoded with an empty nonce. */
  readonly bytes: Buffer;
}

export interface PushPlan {
  readonly target: GenerationRef;
  /** Payload bytes the push carries on the wire (Push.total_size; encoded when `encoding` is not ""). */
  readonly totalSize: number;
  /** Push.encoding actually used ("" when encoding would not have made the payload smaller). */
  readonly encoding: PushEncoding;
  /** Bytes of the canonical document (Push.decoded_size of an encoded push; = totalSize otherwise). */
  readonly decodedSize: number;
  /** Push, then its Chunks in order (just the Push when the payload fits in it). */
  readonly bodies: readonly EncodedBody[];
  /** Bytes held by the encoded bodies (≈ totalSize plus a few bytes of framing per message). */
  readonly heldBytes: number;
}

export function pushPlan(
  target: GenerationRef,
  payload: Uint8Array,
  chunkBytes: number = PUSH_CHUNK_BYTES,
  wanted: PushEncoding = '',
): PushPlan {
  const canonical = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const { bytes, encoding } = encodePayload(canonical, wanted);
  // decoded_size is only meaningful (and only sent) for an encoded push.
  const decodedSize = encoding === '' ? 0 : canonical.byteLength;
  const wireTarget = toWireRef(target);
  const totalSize = bytes.byteLength;
  const bodies: EncodedBody[] = [];
  if (totalSize <= chunkBytes) {
    bodies.push(body(PUSH_FIELD, Push.encode({ nonce: '', target: wireTarget, payload: bytes, chunkCount: 0, totalSize, encoding, decodedSize, mode: PushMode.PUSH_MODE_UNSPECIFIED, canary: undefined }).finish()));
  } else {
    const chunkCount = Math.ceil(totalSize / chunkBytes);
    bodies.push(
      body(PUSH_FIELD, Push.encode({ nonce: '', target: wireTarget, payload: Buffer.alloc(0), chunkCount, totalSize, encoding, decodedSize, mode: PushMode.PUSH_MODE_UNSPECIFIED, canary: undefined }).finish()),
    );
    for (let index = 0; index < chunkCount; index++) {
      const data = bytes.subarray(index * chunkBytes, (index + 1) * chunkBytes);
      bodies.push(body(CHUNK_FIELD, Chunk.encode({ nonce: '', index, data }).finish()));
    }
  }
  const heldBytes = bodies.reduce((sum, b) => sum + b.bytes.byteLength, 0);
  return { target, totalSize, encoding, decodedSize: canonical.byteLength, bodies, heldBytes };
}

/**
 * One encoded FromControlPlane: a small head of this push's own (oneof envelope + nonce)
 * followed by a body shared with every other push of the plan. Never concatenated here: gRPC
 * copies it straight into its frame (outgoing-messages.ts), so a session costs one copy.
 */
export class EncodedMessage {
  readonly head: Buffer;
  readonly body: Buffer;
  /** Per-push fields after the shared body (the Push's mode and canary); empty for a Chunk. */
  readonly tail: Buffer;
  readonly byteLength: number;

  constructor(head: Buffer, body: Buffer, tail: Buffer = EMPTY) {
    this.head = head;
    this.body = body;
    this.tail = tail;
    this.byteLength = head.byteLength + body.byteLength + tail.byteLength;
  }

  /** Writes the message at `targetStart` of `target` (Buffer#copy's contract); returns its length. */
  copy(target: Uint8Array, targetStart = 0): number {
    target.set(this.head, targetStart);
    target.set(this.body, targetStart + this.head.byteLength);
    if (this.tail.byteLength > 0) target.set(this.tail, targetStart + this.head.byteLength + this.body.byteLength);
    return this.byteLength;
  }

  /** The message as one Buffer (tests, diagnostics). */
  toBuffer(): Buffer {
    return Buffer.concat([this.head, this.body, this.tail]);
  }
}

const EMPTY = Buffer.alloc(0);

/** How the node is to take a push: serve it (dropping any candidate), or hold it as its candidate. */
export type PushHow = { readonly mode: 'serve' } | { readonly mode: 'candidate'; readonly canary: CanarySpec };

export const SERVE: PushHow = { mode: 'serve' };

/** The Push's mode and canary fields (8, 9) as the wire carries them. */
export function wireMode(how: PushHow): { mode: PushMode; canary: CanaryAssignment | undefined } {
  if (how.mode === 'serve') return { mode: PushMode.PUSH_MODE_SERVE, canary: undefined };
  return { mode: PushMode.PUSH_MODE_CANDIDATE, canary: { ...how.canary } };
}

/** Fields 8 and 9 of a Push encoded alone (every other field at its default is omitted). */
export function pushTail(how: PushHow): Buffer {
  const encoded = Push.encode(Push.fromPartial(wireMode(how))).finish();
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * The encoded FromControlPlane messages of one push with `nonce`, taken as `how` says: each
 * equals FromControlPlane.encode of the matching pushMessages(nonce, …, how) message, byte for byte.
 */
export function planMessages(plan: PushPlan, nonce: string, how: PushHow = SERVE): EncodedMessage[] {
  const nonceBytes = Buffer.from(nonce, 'utf8');
  const nonceField = 1 + varintSize(nonceBytes.byteLength) + nonceBytes.byteLength;
  const modeTail = pushTail(how);
  return plan.bodies.map(({ field, bytes }) => {
    const tail = field === PUSH_FIELD ? modeTail : EMPTY;
    const inner = nonceField + bytes.byteLength + tail.byteLength;
    const head = Buffer.allocUnsafe(1 + varintSize(inner) + nonceField);
    let at = 0;
    head[at++] = (field << 3) | WIRE_LEN;
    at = writeVarint(head, at, inner);
    head[at++] = NONCE_TAG;
    at = writeVarint(head, at, nonceBytes.byteLength);
    nonceBytes.copy(head, at);
    return new EncodedMessage(head, bytes, tail);
  });
}

function body(field: EncodedBody['field'], encoded: Uint8Array): EncodedBody {
  return { field, bytes: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength) };
}

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 128)) size++;
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let v = value;
  let i = at;
  while (v >= 0x80) {
    out[i++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[i++] = v;
  return i;
}
