import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { parentContext, RequestTracer, traceparentOf } from './request-spans.ts';

function setup(ratio = 1) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { exporter, tracer: new RequestTracer(provider.getTracer('test')) };
}

const START = { method: 'GET', protocol: 'h3' as const, requestId: 'r-1', startedAt: performance.now(), traceparent: null, tracestate: null };
const END = { host: 'example.test', status: 200, outcome: 'ok', upstream: 'api', generationSeq: 7, attempts: 1 };
const ATTEMPT = { upstream: 'api', backendId: 'b1', backendAddress: 'http://127.0.0.1:8080', index: 0, role: 'primary' as const, method: 'GET' };

describe('parentContext / traceparentOf', () => {
  it('a valid inbound traceparent is the remote parent, its sampled flag and tracestate kept', () => {
    const sc = trace.getSpanContext(parentContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'a=1,b=2'));
    assert.ok(sc);
    assert.deepEqual([sc.traceId, sc.spanId, sc.traceFlags, sc.isRemote, sc.traceState?.serialize()], ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1, true, 'a=1,b=2']);
    assert.equal(traceparentOf(sc), '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('absent, malformed, all-zero or another version: no parent', () => {
    for (const bad of [null, 'nope', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
      assert.equal(parentContext(bad, 'a=1'), ROOT_CONTEXT, String(bad));
    }
  });
});

describe('RequestTracer', () => {
  it('a request span (SERVER) and an attempt span (CLIENT, its child); the attempt names itself in its traceparent', () => {
    const { exporter, tracer } = setup();
    const request = tracer.startRequest(START);
    const attempt = request.startAttempt(ATTEMPT);
    const sent = attempt.traceparent;
    attempt.end(200, null);
    request.end(END);
    const [a, r] = exporter.getFinishedSpans();
    assert.ok(a && r);
    assert.equal(r.kind, SpanKind.SERVER);
    assert.equal(a.kind, SpanKind.CLIENT);
    assert.equal(a.parentSpanContext?.spanId, r.spanContext().spanId);
    assert.equal(sent, `00-${request.traceId}-${a.spanContext().spanId}-01`);
    assert.equal(r.name, 'GET api');
    assert.deepEqual(
      [r.attributes['http.response.status_code'], r.attributes['spooky.outcome'], r.attributes['spooky.generation_seq'], r.attributes['server.address'], r.attributes['network.protocol.version']],
      [200, 'ok', 7, 'example.test', '3'],
    );
    assert.deepEqual([a.attributes['spooky.attempt.role'], a.attributes['spooky.attempt.result'], a.attributes['http.request.resend_count']], ['primary', '200', undefined]);
    assert.equal(r.status.code, 0);
  });

  it('failures: an attempt with an error code and a 5xx request are errors', () => {
    const { exporter, tracer } = setup();
    const request = tracer.startRequest(START);
    request.startAttempt(ATTEMPT).end(null, 'upstream_connect_failed');
    request.startAttempt({ ...ATTEMPT, index: 1, role: 'retry' }).end(503, null);
    request.startAttempt({ ...ATTEMPT, index: 2, role: 'hedge' }).end(null, null);
    request.end({ ...END, status: 502, outcome: 'upstream:connect_failed', attempts: 3 });
    const [failed, retried, cancelled, r] = exporter.getFinishedSpans();
    assert.deepEqual([failed?.attributes['spooky.attempt.result'], failed?.attributes['error.type'], failed?.status.code], ['upstream_connect_failed', 'upstream_connect_failed', 2]);
    assert.deepEqual([retried?.attributes['spooky.attempt.result'], retried?.attributes['http.request.resend_count'], retried?.status.code], ['503', 1, 2]);
    assert.deepEqual([cancelled?.attributes['spooky.attempt.result'], cancelled?.attributes['spooky.attempt.role'], cancelled?.status.code], ['cancelled', 'hedge', 0]);
    assert.deepEqual([r?.status.code, r?.attributes['error.type']], [2, 'upstream:connect_failed']);
  });

  it('an inbound unsampled parent: nothing recorded, what goes upstream keeps the trace and the cleared flag', () => {
    const { exporter, tracer } = setup();
    const request = tracer.startRequest({ ...START, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' });
    const attempt = request.startAttempt(ATTEMPT);
    assert.match(attempt.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    attempt.end(200, null);
    request.end(END);
    assert.equal(exporter.getFinishedSpans().length, 0);
  });

  it('ratio 0: a new trace is not recorded, an inbound sampled one is (parent-based)', () => {
    const { exporter, tracer } = setup(0);
    const fresh = tracer.startRequest(START);
    assert.match(fresh.traceparent, /-00$/);
    fresh.end(END);
    assert.equal(exporter.getFinishedSpans().length, 0);
    const continued = tracer.startRequest({ ...START, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    continued.end(END);
    assert.equal(exporter.getFinishedSpans().length, 1);
  });

  it('end is idempotent', () => {
    const { exporter, tracer } = setup();
    const request = tracer.startRequest(START);
    request.end(END);
    request.end({ ...END, status: 500 });
    assert.equal(exporter.getFinishedSpans().length, 1);
    assert.equal(exporter.getFinishedSpans()[0]?.attributes['http.response.status_code'], 200);
  });
});
