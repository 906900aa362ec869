import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { ControlPlaneTracing, type PushFacts } from './control-plane-tracing.ts';

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracing = new ControlPlaneTracing({ endpoint: 'http://127.0.0.1:9/v1/traces', sampleRatio: 1, serviceName: 'cp' }, pino({ level: 'silent' }), {
    tracer: provider.getTracer('test'),
    shutdown: () => provider.shutdown(),
    flush: () => provider.forceFlush(),
  });
  const named = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name);
  return { exporter, tracing, named };
}

const push = (over: Partial<PushFacts> = {}): PushFacts => ({ scope: 'prod', nodeId: 'n1', bootId: 'b1', seq: 2, digest: 'sha256:2', nonce: 'x1', mode: 'serve', ...over });

describe('ControlPlaneTracing', () => {
  it('pushes during an activation, and later pushes of the generation it moved to, are its children', () => {
    const { tracing, named } = setup();
    const activation = tracing.startActivation('prod', 'activate', '2', 'ci');
    const during = tracing.startPush(push());
    activation.moved(2, 'sha256:2', true);
    during.acked(2);
    tracing.startPush(push({ nodeId: 'n2', nonce: 'x2' })).acked(2);
    tracing.startPush(push({ nodeId: 'n3', nonce: 'x3', seq: 5 })).acked(5);
    const a = named('activate prod');
    assert.ok(a);
    assert.deepEqual([a.attributes['spooky.generation_seq'], a.attributes['spooky.moved'], a.attributes['spooky.actor']], [2, true, 'ci']);
    assert.equal(named('push n1')?.parentSpanContext?.spanId, a.spanContext().spanId);
    assert.equal(named('push n2')?.parentSpanContext?.spanId, a.spanContext().spanId);
    assert.equal(named('push n3')?.parentSpanContext, undefined, 'another generation: a trace of its own');
    assert.deepEqual(named('push n1')?.events.map((e) => [e.name, e.attributes?.['spooky.applied_seq']]), [['ack', 2]]);
  });

  it('nack, abandoned, closed: the result attribute, an error status; only the first end counts', () => {
    const { tracing, named } = setup();
    const nacked = tracing.startPush(push({ nodeId: 'a' }));
    nacked.nacked({ phase: 'compile', retryable: false, issues: 3 });
    nacked.acked(2);
    tracing.startPush(push({ nodeId: 'b' })).ended('abandoned');
    tracing.startPush(push({ nodeId: 'c' })).ended('closed');
    const a = named('push a');
    assert.deepEqual([a?.attributes['spooky.push.result'], a?.status.code, a?.events.map((e) => e.name)], ['nack', 2, ['nack']]);
    assert.deepEqual(a?.events[0]?.attributes, { 'spooky.nack.phase': 'compile', 'spooky.nack.retryable': false, 'spooky.nack.issues': 3 });
    assert.equal(named('push b')?.attributes['spooky.push.result'], 'abandoned');
    assert.equal(named('push c')?.attributes['spooky.push.result'], 'closed');
  });

  it('a refused move: an error span, and the previous activation stays the one pushes join', () => {
    const { tracing, named } = setup();
    tracing.startActivation('prod', 'activate', '2', 'ci').moved(2, 'sha256:2', true);
    tracing.startActivation('prod', 'rollback', 'lkg', 'ci').failed('precondition_failed');
    tracing.startPush(push()).acked(2);
    const refused = named('rollback prod');
    assert.deepEqual([refused?.status.code, refused?.attributes['error.type']], [2, 'precondition_failed']);
    assert.equal(named('push n1')?.parentSpanContext?.spanId, named('activate prod')?.spanContext().spanId);
  });
});
