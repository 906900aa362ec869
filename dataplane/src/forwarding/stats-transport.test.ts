import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SpookyError } from '../errors.ts';
import type { BackendTransport, BodyConsumer, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import { BackendStats } from '../runtime/backend-stats.ts';
import { withBackendStats } from './stats-transport.ts';

/** A transport whose forward() is settled by the test. */
function fakeTransport() {
  const pending: Array<{ resolve: (r: UpstreamResponse) => void; reject: (e: Error) => void }> = [];
  let consumer: BodyConsumer | null = null;
  let aborted = 0;
  const transport: BackendTransport = {
    protocol: 'h1',
    forward: () => new Promise((resolve, reject) => pending.push({ resolve, reject })),
    close: async () => undefined,
  };
  const response = (status: number): UpstreamResponse => ({
    status,
    headers: [],
    stream: (c) => {
      consumer = c;
    },
    resume: () => undefined,
    abort: () => {
      aborted++;
      consumer?.error(new SpookyError('client_aborted'));
    },
  });
  return { transport, pending, response, consumer: () => consumer, aborted: () => aborted };
}

const request = { method: 'GET', path: '/', headers: [], body: null, signal: new AbortController().signal } satisfies UpstreamRequest;
const sink: BodyConsumer = { data: () => true, end: () => undefined, error: () => undefined };

describe('withBackendStats', () => {
  test('counts the try active from dispatch to body end, and samples head latency', async () => {
    const fake = fakeTransport();
    const stats = new BackendStats();
    let clock = 100;
    const t = withBackendStats(fake.transport, stats, () => clock);
    const pending = t.forward(request);
    assert.equal(stats.active, 1);
    clock = 142;
    fake.pending[0]?.resolve(fake.response(200));
    const response = await pending;
    assert.equal(stats.ewmaMs, 42);
    assert.equal(stats.active, 1, 'still active while the body streams');
    response.stream(sink);
    fake.consumer()?.end([]);
    assert.equal(stats.active, 0);
    fake.consumer()?.error(new Error('late')); // a second ending is ignored
    assert.equal(stats.active, 0);
  });

  test('5xx heads are not sampled; abort ends the try once', async () => {
    const fake = fakeTransport();
    const stats = new BackendStats();
    const t = withBackendStats(fake.transport, stats, () => 0);
    const pending = t.forward(request);
    fake.pending[0]?.resolve(fake.response(502));
    const response = await pending;
    assert.equal(stats.sampled, false);
    response.stream(sink);
    response.abort(); // the fake also reports consumer.error: counted once
    assert.equal(stats.active, 0);
    assert.equal(fake.aborted(), 1);
  });

  test('a failure before the head raises the EWMA; a client abort does not', async () => {
    const fake = fakeTransport();
    const stats = new BackendStats();
    let clock = 0;
    const t = withBackendStats(fake.transport, stats, () => clock);
    const first = t.forward(request);
    clock = 30;
    fake.pending[0]?.reject(new SpookyError('upstream_connect_failed'));
    await assert.rejects(first, { code: 'upstream_connect_failed' });
    assert.equal(stats.active, 0);
    assert.equal(stats.ewmaMs, 1000);
    const second = t.forward(request);
    clock = 5000;
    fake.pending[1]?.reject(new SpookyError('client_aborted'));
    await assert.rejects(second, { code: 'client_aborted' });
    assert.equal(stats.ewmaMs, 1000);
    assert.equal(stats.active, 0);
  });
});
