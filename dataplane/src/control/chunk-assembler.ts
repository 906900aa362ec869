/**
 * Reassembles a Push and its Chunks into the generation's bytes. A Push with chunk_count = 0
 * carries the whole payload; otherwise chunk_count Chunks with the same nonce follow, in index
 * order, adding up to exactly total_size bytes. The control plane sends at most one push at a
 * time, so a new Push drops any unfinished one. total_size counts the bytes on the wire; an
 * encoded push (Push.encoding, payload-decoding.ts) is decoded once complete, so `complete`
 * always carries the canonical bytes (digest not checked here: push-answer.ts). A CANDIDATE
 * push (Push.mode) carries its canary assignment through to `complete`; one without the
 * assignment is a broken transfer. No I/O.
 */
import { type Chunk, type Push, PushMode } from '@spooky/proto';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import type { GenerationRef } from './generation-applier.ts';
import { decodePayload } from './payload-decoding.ts';
import { fromWireCanary, fromWireRef } from './wire-refs.ts';

/** Largest generation accepted over the wire (a transfer guard; the config budget is smaller). */
export const MAX_ASSEMBLED_BYTES = 64 * 1024 * 1024;

export type AssemblyResult =
  | {
      readonly kind: 'complete';
      readonly nonce: string;
      readonly target: GenerationRef;
      readonly payload: Buffer;
      /** A CANDIDATE push: hold the target beside the serving generation; null: serve it. */
      readonly canary: CanaryAssignment | null;
    }
  /** More chunks are expected. */
  | { readonly kind: 'partial' }
  /** A chunk that belongs to no push in progress (e.g. after a failure): nothing to answer. */
  | { readonly kind: 'ignored' }
  /** The transfer is broken: answer with Nack phase "transfer". `target` null if the Push had none. */
  | { readonly kind: 'failed'; readonly nonce: string; readonly target: GenerationRef | null; readonly reason: string };

interface InProgress {
  readonly nonce: string;
  readonly target: GenerationRef;
  readonly chunkCount: number;
  readonly totalSize: number;
  readonly encoding: string;
  readonly decodedSize: number;
  readonly canary: CanaryAssignment | null;
  readonly parts: Buffer[];
  received: number;
}

export class ChunkAssembler {
  #current: InProgress | null = null;

  push(push: Push): AssemblyResult {
    this.#current = null;
    const target = fromWireRef(push.target);
    if (target === null) return failed(push.nonce, null, 'push without a target');
    if (push.mode === PushMode.PUSH_MODE_CANDIDATE && push.canary === undefined) return failed(push.nonce, target, 'candidate push without a canary assignment');
    const canary = push.mode === PushMode.PUSH_MODE_CANDIDATE && push.canary !== undefined ? fromWireCanary(push.canary, target.digest) : null;
    if (push.totalSize > MAX_ASSEMBLED_BYTES) {
      return failed(push.nonce, target, `total_size ${push.totalSize} exceeds ${MAX_ASSEMBLED_BYTES}`);
    }
    if (push.chunkCount === 0) {
      if (push.totalSize !== 0 && push.payload.byteLength !== push.totalSize) {
        return failed(push.nonce, target, `payload is ${push.payload.byteLength} bytes, total_size says ${push.totalSize}`);
      }
      return complete(push.nonce, target, push.payload, push.encoding, push.decodedSize, canary);
    }
    this.#current = {
      nonce: push.nonce,
      target,
      chunkCount: push.chunkCount,
      totalSize: push.totalSize,
      encoding: push.encoding,
      decodedSize: push.decodedSize,
      canary,
      parts: [],
      received: 0,
    };
    return { kind: 'partial' };
  }

  chunk(chunk: Chunk): AssemblyResult {
    const current = this.#current;
    if (current === null || current.nonce !== chunk.nonce) return { kind: 'ignored' };
    if (chunk.index !== current.parts.length) {
      this.#current = null;
      return failed(current.nonce, current.target, `chunk ${chunk.index} arrived, expected ${current.parts.length}`);
    }
    current.parts.push(chunk.data);
    current.received += chunk.data.byteLength;
    if (current.received > current.totalSize) {
      this.#current = null;
      return failed(current.nonce, current.target, `chunks exceed total_size ${current.totalSize}`);
    }
    if (current.parts.length < current.chunkCount) return { kind: 'partial' };
    this.#current = null;
    if (current.received !== current.totalSize) {
      return failed(current.nonce, current.target, `received ${current.received} bytes, total_size says ${current.totalSize}`);
    }
    return complete(current.nonce, current.target, Buffer.concat(current.parts), current.encoding, current.decodedSize, current.canary);
  }
}

function complete(nonce: string, target: GenerationRef, wire: Buffer, encoding: string, decodedSize: number, canary: CanaryAssignment | null): AssemblyResult {
  const decoded = decodePayload(wire, encoding, decodedSize, MAX_ASSEMBLED_BYTES);
  if (!decoded.ok) return failed(nonce, target, decoded.reason);
  return { kind: 'complete', nonce, target, payload: decoded.payload, canary };
}

function failed(nonce: string, target: GenerationRef | null, reason: string): AssemblyResult {
  return { kind: 'failed', nonce, target, reason };
}
