/**
 * Fuzz: decodePayload (payload-decoding.ts) on what a hostile or broken control plane could
 * send: zstd frames of arbitrary documents with a true or a lying decoded_size, truncated or
 * bit-flipped frames, concatenated frames, random bytes, unknown encodings. Properties:
 *   - never throws, bounded CPU time per input;
 *   - ok ⇒ the payload is exactly decoded_size bytes and at most the cap (no bomb gets past);
 *   - an honest zstd push (decoded_size = the document's size) decodes to the document itself;
 *   - identity returns the bytes untouched.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { cpuMs, fuzzRuns, PER_INPUT_CPU_MS } from '../testing/fuzz-runs.ts';
import { decodePayload } from './payload-decoding.ts';

/** A small cap so bombs are cheap to build: 64 KiB. */
const CAP = 64 * 1024;

const documentBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 1, max: 20_000 })).map(([s, n]) => Buffer.from(s.repeat(n).slice(0, 100_000))),
);

type Mangle = { kind: 'none' } | { kind: 'truncate'; at: number } | { kind: 'flip'; at: number; bit: number } | { kind: 'twice' };
const mangle: fc.Arbitrary<Mangle> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Mangle>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.nat().map<Mangle>((at) => ({ kind: 'truncate', at })) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map<Mangle>(([at, bit]) => ({ kind: 'flip', at, bit })) },
  { weight: 1, arbitrary: fc.constant<Mangle>({ kind: 'twice' }) },
);

function applyMangle(frame: Buffer, m: Mangle): Buffer {
  if (m.kind === 'truncate') return frame.subarray(0, m.at % (frame.byteLength + 1));
  if (m.kind === 'flip') {
    const out = Buffer.from(frame);
    if (out.byteLength > 0) out[m.at % out.byteLength] = (out[m.at % out.byteLength] ?? 0) ^ (1 << m.bit);
    return out;
  }
  if (m.kind === 'twice') return Buffer.concat([frame, frame]);
  return frame;
}

let inputs = 0;
let decoded = 0;

describe('fuzz: decodePayload', () => {
  test('ok ⇒ exactly decoded_size bytes ≤ the cap; honest zstd round-trips; identity is untouched', () => {
    fc.assert(
      fc.property(
        documentBytes,
        mangle,
        fc.oneof(fc.constant<'honest'>('honest'), fc.nat({ max: 2 * CAP })),
        fc.constantFrom('zstd', 'zstd', 'zstd', '', 'gzip', 'ZSTD'),
        (doc, m, size, encoding) => {
          inputs++;
          const started = cpuMs();
          const wire = encoding === '' ? doc : applyMangle(zstdCompressSync(doc), m);
          const decodedSize = size === 'honest' ? doc.byteLength : size;
          const result = decodePayload(wire, encoding, decodedSize, CAP);
          assert.ok(cpuMs() - started < PER_INPUT_CPU_MS, 'per-input time bound');
          if (encoding === '') {
            assert.ok(result.ok && result.payload === wire, 'identity is the bytes themselves');
            return;
          }
          if (encoding !== 'zstd') {
            assert.equal(result.ok, false, 'unknown encodings are refused');
            return;
          }
          if (result.ok) {
            decoded++;
            assert.equal(result.payload.byteLength, decodedSize);
            assert.ok(result.payload.byteLength <= CAP);
          } else {
            assert.ok(result.reason.length > 0 && result.reason.length < 300);
          }
          if (m.kind === 'none' && size === 'honest' && doc.byteLength > 0 && doc.byteLength <= CAP) {
            assert.ok(result.ok, 'an honest push decodes');
            assert.ok(result.payload.equals(doc), 'to the very document');
          }
        },
      ),
      { numRuns: fuzzRuns(400) },
    );
  });

  test('summary', (t) => {
    const line = `fuzz payload-decoding: ${inputs} inputs, 0 failures`;
    t.diagnostic(`payload-decoding: ${decoded} of ${inputs} inputs decoded`);
    t.diagnostic(line);
    console.log(line);
  });
});
