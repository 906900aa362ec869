import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { TracingExport } from '@spooky/config';
import pino from 'pino';
import type { Generation } from '../runtime/generation.ts';
import { TracingRuntime } from './tracing-runtime.ts';

const OFF: TracingExport = { enabled: false, otlp_endpoint: null, sample_ratio: 1, service_name: 'spooky-dataplane' };
// Nothing is ever exported here (no span is started): the endpoint is never dialled.
const ON: TracingExport = { enabled: true, otlp_endpoint: 'http://127.0.0.1:9/v1/traces', sample_ratio: 1, service_name: 'spooky-dataplane' };

function generation(seq: number, tracing: TracingExport): Generation {
  return { ref: { scope: 's', seq, digest: `sha256:${seq}` }, config: { observability: { tracing } } } as unknown as Generation;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('TracingRuntime', () => {
  it('export off (the default): null, and no provider is created', () => {
    const { lines, logger } = capture();
    const runtime = new TracingRuntime(logger);
    assert.equal(runtime.tracerFor(generation(1, OFF)), null);
    assert.equal(runtime.tracerFor(generation(2, { ...OFF, otlp_endpoint: 'http://127.0.0.1:9/v1/traces' })), null, 'an endpoint alone does not switch it on');
    assert.deepEqual(lines, []);
  });

  it('follows each generation: on, the same setting shares one tracer, a changed one gets its own, off again', async () => {
    const { lines, logger } = capture();
    const runtime = new TracingRuntime(logger);
    const g1 = generation(1, ON);
    const first = runtime.tracerFor(g1);
    assert.ok(first);
    assert.equal(runtime.tracerFor(g1), first, 'cached per generation');
    assert.equal(runtime.tracerFor(generation(2, { ...ON })), first, 'an equal setting in a new generation: the same tracer');
    const other = runtime.tracerFor(generation(3, { ...ON, service_name: 'edge-b' }));
    assert.ok(other && other !== first);
    assert.equal(runtime.tracerFor(generation(4, OFF)), null);
    assert.equal(runtime.tracerFor(generation(5, ON)), first, 'the two most recent settings are kept');
    assert.deepEqual(
      lines.map((l) => [l['msg'], l['seq'], l['endpoint']]),
      [
        ['tracing: span export on', 1, 'http://127.0.0.1:9'],
        ['tracing: span export on', 3, 'http://127.0.0.1:9'],
        ['tracing: span export off', 4, undefined],
      ],
    );
    await runtime.close();
    assert.equal(runtime.tracerFor(generation(6, ON)), null, 'closed: nothing more is exported');
  });
});
