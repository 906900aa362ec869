/**
 * W3C Trace Context (level 1) for requests sent upstream.
 *
 * A valid inbound `traceparent` (version 00, 32 lowercase hex trace-id not all zero, 16 hex
 * parent-id not all zero, 2 hex flags; exactly one header) is propagated UNCHANGED, with its
 * `tracestate`. Why unchanged rather than with a new parent-id: without span export
 * (`observability.tracing`, tracing/) Spooky records no spans, so a
 * parent-id of its own would name a span no collector ever receives and every trace view
 * would show the backend's span with a missing parent; passing the client's parent-id keeps
 * the tree intact, and the access log's `traceId` still ties Spooky's line to the trace.
 *
 * Absent or invalid (also: several traceparent headers, or any other version) → a fresh one:
 * random trace-id and parent-id, sampled flag when the trace-id's last 32 bits fall below
 * `sample_percent` of their range (deterministic from the id, like OpenTelemetry's
 * trace-id-ratio sampler, so every hop that applies the same ratio agrees); an inbound
 * `tracestate` is dropped with an invalid traceparent (the spec ties it to its parent).
 *
 * Ids come from a pooled random buffer (crypto.randomFillSync, 128 requests' worth per
 * refill), hex-encoded straight from it.
 */
import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lowercase hex. */
  readonly traceId: string;
  /** The traceparent header to send. */
  readonly traceparent: string;
  /** The tracestate header to send (inbound values joined), null = none. */
  readonly tracestate: string | null;
}

function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

/** True when `s[from, to)` is lowercase hex and not all zeros. */
function nonZeroHex(s: string, from: number, to: number): boolean {
  let nonZero = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isLowerHex(c)) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

/** A traceparent this proxy propagates: exactly version 00's shape. */
export function isValidTraceparent(value: string): boolean {
  if (value.length !== 55) return false;
  if (value.charCodeAt(0) !== 48 || value.charCodeAt(1) !== 48) return false;
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return false;
  return nonZeroHex(value, 3, 35) && nonZeroHex(value, 36, 52) && isLowerHex(value.charCodeAt(53)) && isLowerHex(value.charCodeAt(54));
}

const PER_REFILL = 128;
const ID_BYTES = 24; // 16 trace-id + 8 parent-id
const pool = Buffer.allocUnsafe(PER_REFILL * ID_BYTES);
let offset = pool.length;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** `00-<32 hex>-<16 hex>-<2 hex>`: the traceparent is written here, then read as one string. */
const line = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`, 'latin1');

/** `pool[from, from + n)` as lowercase hex into `line` at `to`; false when all n bytes are zero. */
function hexInto(from: number, n: number, to: number): boolean {
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const b = pool[from + i] as number;
    nonZero |= b;
    line[to + 2 * i] = HEX_DIGITS[b >> 4] as number;
    line[to + 2 * i + 1] = HEX_DIGITS[b & 15] as number;
  }
  return nonZero !== 0;
}

/**
 * A fresh traceparent; `samplePercent` 0–100 decides the sampled flag from the trace-id.
 * Allocation: the traceparent is one flat string (hex written into a scratch buffer, not
 * concatenated) and the trace id a slice of it.
 */
export function generateTraceContext(samplePercent: number): TraceContext {
  for (;;) {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const at = offset;
    offset += ID_BYTES;
    // All-zero ids are invalid (probability 2^-128 / 2^-64): draw again.
    const traceOk = hexInto(at, 16, 3);
    const parentOk = hexInto(at + 16, 8, 36);
    if (!traceOk || !parentOk) continue;
    const sampled = samplePercent >= 100 || (samplePercent > 0 && pool.readUInt32BE(at + 12) < (samplePercent / 100) * 2 ** 32);
    line[54] = sampled ? 0x31 : 0x30;
    const traceparent = line.toString('latin1', 0, 55);
    return { traceId: traceparent.slice(3, 35), traceparent, tracestate: null };
  }
}

/**
 * The trace context to send given the inbound traceparent value(s): `traceparent` is the
 * single inbound value, `count` how many traceparent headers came (more than one = invalid),
 * `tracestate` the inbound tracestate values joined (null = none).
 */
export function traceContextFor(traceparent: string | null, count: number, tracestate: string | null, samplePercent: number): TraceContext {
  if (count === 1 && traceparent !== null && isValidTraceparent(traceparent)) {
    return { traceId: traceparent.slice(3, 35), traceparent, tracestate };
  }
  return generateTraceContext(samplePercent);
}

/** The trace id of a valid inbound traceparent, else null (for requests never forwarded). */
export function inboundTraceId(traceparent: string | null): string | null {
  return traceparent !== null && isValidTraceparent(traceparent) ? traceparent.slice(3, 35) : null;
}
