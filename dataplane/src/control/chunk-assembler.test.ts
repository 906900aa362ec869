import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { type Push, PushMode } from '@spooky/proto';
import { ChunkAssembler, MAX_ASSEMBLED_BYTES } from './chunk-assembler.ts';

const target = { scope: 's', seq: 3, digest: 'sha256:x' };
const push = (over: Partial<Push>): Push => ({
  nonce: 'n1',
  target,
  payload: Buffer.alloc(0),
  chunkCount: 0,
  totalSize: 0,
  encoding: '',
  decodedSize: 0,
  mode: PushMode.PUSH_MODE_SERVE,
  canary: undefined,
  ...over,
});

describe('ChunkAssembler', () => {
  it('completes a whole-payload push at once', () => {
    const r = new ChunkAssembler().push(push({ payload: Buffer.from('abc'), totalSize: 3 }));
    assert.ok(r.kind === 'complete');
    assert.equal(r.payload.toString(), 'abc');
    assert.deepEqual(r.target, target);
  });

  it('a CANDIDATE push carries its canary assignment (salted by the target digest) through the chunks', () => {
    const canary = { percent: 5, crashWindowMs: 30_000, minRequests: 100, maxErrorRatio: 0.05, maxErrorIncrease: 0.02, maxP99Factor: 2, minP99IncreaseMs: 50 };
    const a = new ChunkAssembler();
    assert.equal(a.push(push({ chunkCount: 1, totalSize: 2, mode: PushMode.PUSH_MODE_CANDIDATE, canary })).kind, 'partial');
    const r = a.chunk({ nonce: 'n1', index: 0, data: Buffer.from('ab') });
    assert.ok(r.kind === 'complete');
    assert.deepEqual(r.canary, {
      candidateDigest: target.digest,
      percent: 5,
      crashWindowMs: 30_000,
      thresholds: { minRequests: 100, maxErrorRatio: 0.05, maxErrorIncrease: 0.02, maxP99Factor: 2, minP99IncreaseMs: 50 },
    });
    const serve = new ChunkAssembler().push(push({ payload: Buffer.from('x'), totalSize: 1 }));
    assert.ok(serve.kind === 'complete');
    assert.equal(serve.canary, null);
  });

  it('a CANDIDATE push without an assignment is a broken transfer', () => {
    const r = new ChunkAssembler().push(push({ payload: Buffer.from('x'), totalSize: 1, mode: PushMode.PUSH_MODE_CANDIDATE }));
    assert.ok(r.kind === 'failed');
    assert.match(r.reason, /canary assignment/);
  });

  it('reassembles chunks in order', () => {
    const a = new ChunkAssembler();
    assert.equal(a.push(push({ chunkCount: 2, totalSize: 5 })).kind, 'partial');
    assert.equal(a.chunk({ nonce: 'n1', index: 0, data: Buffer.from('abc') }).kind, 'partial');
    const r = a.chunk({ nonce: 'n1', index: 1, data: Buffer.from('de') });
    assert.ok(r.kind === 'complete');
    assert.equal(r.payload.toString(), 'abcde');
  });

  it('ignores chunks of no push in progress', () => {
    const a = new ChunkAssembler();
    assert.equal(a.chunk({ nonce: 'zz', index: 0, data: Buffer.from('x') }).kind, 'ignored');
    a.push(push({ chunkCount: 2, totalSize: 2 }));
    assert.equal(a.chunk({ nonce: 'other', index: 0, data: Buffer.from('x') }).kind, 'ignored');
  });

  it('fails on out-of-order chunks, size mismatch, oversize and a missing target', () => {
    const a = new ChunkAssembler();
    a.push(push({ chunkCount: 2, totalSize: 4 }));
    assert.equal(a.chunk({ nonce: 'n1', index: 1, data: Buffer.from('ab') }).kind, 'failed');

    a.push(push({ chunkCount: 2, totalSize: 4 }));
    a.chunk({ nonce: 'n1', index: 0, data: Buffer.from('a') });
    const short = a.chunk({ nonce: 'n1', index: 1, data: Buffer.from('b') });
    assert.ok(short.kind === 'failed');
    assert.deepEqual(short.target, target);

    a.push(push({ chunkCount: 1, totalSize: 1 }));
    assert.equal(a.chunk({ nonce: 'n1', index: 0, data: Buffer.from('toolong') }).kind, 'failed');

    assert.equal(a.push(push({ chunkCount: 100, totalSize: MAX_ASSEMBLED_BYTES + 1 })).kind, 'failed');
    assert.equal(a.push(push({ payload: Buffer.from('ab'), totalSize: 3 })).kind, 'failed');
    const noTarget = a.push(push({ target: undefined }));
    assert.ok(noTarget.kind === 'failed');
    assert.equal(noTarget.target, null);
  });

  it('decodes a zstd push (inline or chunked) to the canonical bytes', () => {
    const canonical = Buffer.from(`{"version":1,"pad":"${'x'.repeat(5000)}"}`);
    const wire = zstdCompressSync(canonical);
    const inline = new ChunkAssembler().push(push({ payload: wire, totalSize: wire.byteLength, encoding: 'zstd', decodedSize: canonical.byteLength }));
    assert.ok(inline.kind === 'complete');
    assert.deepEqual(inline.payload, canonical);

    const a = new ChunkAssembler();
    const half = Math.floor(wire.byteLength / 2);
    a.push(push({ chunkCount: 2, totalSize: wire.byteLength, encoding: 'zstd', decodedSize: canonical.byteLength }));
    a.chunk({ nonce: 'n1', index: 0, data: wire.subarray(0, half) });
    const chunked = a.chunk({ nonce: 'n1', index: 1, data: wire.subarray(half) });
    assert.ok(chunked.kind === 'complete');
    assert.deepEqual(chunked.payload, canonical);
  });

  it('fails a zstd push that lies about its decoded size, does not decode, or uses an unknown encoding', () => {
    const canonical = Buffer.from('y'.repeat(10_000));
    const wire = zstdCompressSync(canonical);
    const a = new ChunkAssembler();
    const whole = (over: Partial<Push>) => a.push(push({ payload: wire, totalSize: wire.byteLength, encoding: 'zstd', ...over }));
    // Bigger than announced: decoding stops at decoded_size (no unbounded output).
    const bomb = whole({ decodedSize: 100 });
    assert.ok(bomb.kind === 'failed', 'decodes past decoded_size');
    assert.equal(whole({ decodedSize: canonical.byteLength + 1 }).kind, 'failed', 'shorter than announced');
    assert.equal(whole({ decodedSize: MAX_ASSEMBLED_BYTES + 1 }).kind, 'failed', 'announced over the cap');
    assert.equal(whole({ decodedSize: canonical.byteLength, payload: Buffer.from('not zstd'), totalSize: 8 }).kind, 'failed', 'garbage');
    assert.equal(whole({ decodedSize: canonical.byteLength, encoding: 'br' }).kind, 'failed', 'unknown encoding');
    assert.equal(whole({ decodedSize: canonical.byteLength }).kind, 'complete');
  });

  it('a new push drops an unfinished one', () => {
    const a = new ChunkAssembler();
    a.push(push({ chunkCount: 2, totalSize: 2 }));
    a.chunk({ nonce: 'n1', index: 0, data: Buffer.from('a') });
    a.push(push({ nonce: 'n2', chunkCount: 1, totalSize: 1 }));
    assert.equal(a.chunk({ nonce: 'n1', index: 1, data: Buffer.from('b') }).kind, 'ignored');
    assert.equal(a.chunk({ nonce: 'n2', index: 0, data: Buffer.from('c') }).kind, 'complete');
  });
});
