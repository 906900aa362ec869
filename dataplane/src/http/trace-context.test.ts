import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateTraceContext, inboundTraceId, isValidTraceparent, traceContextFor } from './trace-context.ts';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('isValidTraceparent: version 00 shape only', () => {
  assert.ok(isValidTraceparent(VALID));
  assert.ok(isValidTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'));
  assert.ok(isValidTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff'), 'unknown flags are kept');
  for (const bad of [
    '',
    VALID.slice(0, 54),
    `${VALID}-`,
    VALID.replace('00-', '01-'),
    VALID.replace('4bf9', '4BF9'),
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    VALID.replace('-01', '-0x'),
    VALID.replaceAll('-', '_'),
  ]) {
    assert.ok(!isValidTraceparent(bad), bad);
  }
});

test('traceContextFor: one valid header propagated unchanged; several or invalid → generated', () => {
  assert.deepEqual(traceContextFor(VALID, 1, 'a=1', 100), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', traceparent: VALID, tracestate: 'a=1' });
  const twice = traceContextFor(VALID, 2, 'a=1', 100);
  assert.notEqual(twice.traceparent, VALID);
  assert.equal(twice.tracestate, null);
  assert.equal(traceContextFor(null, 0, null, 100).tracestate, null);
});

test('generated ids are valid, distinct, and refill the pool without repeating', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const t = generateTraceContext(100);
    assert.ok(isValidTraceparent(t.traceparent), t.traceparent);
    assert.equal(t.traceparent.slice(3, 35), t.traceId);
    assert.ok(t.traceparent.endsWith('-01'));
    seen.add(t.traceId);
  }
  assert.equal(seen.size, 1000);
  assert.ok(generateTraceContext(0).traceparent.endsWith('-00'));
  // One scratch buffer builds every traceparent: the flag of the previous one must not stick.
  assert.ok(generateTraceContext(100).traceparent.endsWith('-01'));
  const earlier = generateTraceContext(100).traceparent;
  generateTraceContext(100);
  assert.ok(isValidTraceparent(earlier), 'an earlier traceparent is not changed by the next');
});

test('inboundTraceId', () => {
  assert.equal(inboundTraceId(VALID), '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(inboundTraceId('nope'), null);
  assert.equal(inboundTraceId(null), null);
});
