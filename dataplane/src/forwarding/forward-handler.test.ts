import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { SpookyError } from '../errors.ts';
import type { BodyConsumer, UpstreamResponse } from '../http/backend-transport.ts';
import { DeadlineQueue } from '../pipeline/deadline-queue.ts';
import { ForwardHandler } from './forward-handler.ts';

type FakeController = Dispatcher.DispatchController & { pauses: number; resumes: number; abortReason: Error | null };

/** Just enough of undici's DispatchController for the handler. */
function fakeController(): FakeController {
  const c = {
    aborted: false,
    paused: false,
    reason: null as Error | null,
    pauses: 0,
    resumes: 0,
    abortReason: null as Error | null,
    abort(reason: Error) {
      c.aborted = true;
      c.abortReason = reason;
    },
    pause() {
      c.pauses++;
    },
    resume() {
      c.resumes++;
    },
  };
  return c as unknown as FakeController;
}

interface Recorded {
  chunks: number;
  ends: number;
  errors: Error[];
}

function consumer(rec: Recorded, accept: () => boolean): BodyConsumer {
  return {
    data: () => {
      rec.chunks++;
      return accept();
    },
    end: () => {
      rec.ends++;
    },
    error: (err) => {
      rec.errors.push(err);
    },
  };
}

async function started(signal: AbortSignal = new AbortController().signal, bodyTotalMs: number | null = null, deadlines?: DeadlineQueue) {
  let response: UpstreamResponse | null = null;
  let rejected: Error | null = null;
  const handler = new ForwardHandler(
    { method: 'GET', path: '/', headers: [], body: null, signal },
    (r) => {
      response = r;
    },
    (e) => {
      rejected = e;
    },
    bodyTotalMs,
    deadlines,
  );
  const controller = fakeController();
  handler.onRequestStart(controller);
  return { handler, controller, response: () => response, rejected: () => rejected };
}

describe('ForwardHandler', () => {
  it('fails the held body when the client resets after undici read the whole response under backpressure (no hang)', async () => {
    const t = await started();
    t.handler.onResponseStart(t.controller, 200, {});
    const response = t.response() as unknown as UpstreamResponse;
    assert.ok(response);
    const rec: Recorded = { chunks: 0, ends: 0, errors: [] };
    response.stream(consumer(rec, () => false)); // the client is backpressured from the start
    t.handler.onResponseData(t.controller, Buffer.from('a'));
    t.handler.onResponseData(t.controller, Buffer.from('b'));
    t.handler.onResponseEnd(t.controller, {});
    assert.equal(rec.ends, 0, 'body still held');
    response.abort(); // the client reset its stream
    assert.equal(rec.errors.length, 1, 'the relay is told, exactly once');
    assert.equal((rec.errors[0] as SpookyError).code, 'client_aborted');
    response.resume(); // a late drain resumes nothing
    response.abort();
    assert.equal(rec.ends, 0);
    assert.equal(rec.errors.length, 1);
  });

  it('the request deadline still ends a held body after undici finished (the signal stays attached)', async () => {
    const deadline = new AbortController();
    const t = await started(deadline.signal);
    t.handler.onResponseStart(t.controller, 200, {});
    const response = t.response() as unknown as UpstreamResponse;
    const rec: Recorded = { chunks: 0, ends: 0, errors: [] };
    response.stream(consumer(rec, () => false));
    t.handler.onResponseData(t.controller, Buffer.from('a'));
    t.handler.onResponseEnd(t.controller, {});
    deadline.abort(new SpookyError('request_timeout'));
    assert.equal(rec.errors.length, 1);
    assert.equal((rec.errors[0] as SpookyError).code, 'request_timeout');
  });

  it('delivers end exactly once after backpressure releases', async () => {
    const t = await started();
    t.handler.onResponseStart(t.controller, 200, {});
    const response = t.response() as unknown as UpstreamResponse;
    let accept = false;
    const rec: Recorded = { chunks: 0, ends: 0, errors: [] };
    response.stream(consumer(rec, () => accept));
    t.handler.onResponseData(t.controller, Buffer.from('a'));
    t.handler.onResponseData(t.controller, Buffer.from('b'));
    t.handler.onResponseEnd(t.controller, {});
    accept = true;
    response.resume();
    assert.equal(rec.ends, 1);
    response.abort();
    response.resume();
    assert.equal(rec.ends, 1);
    assert.equal(rec.errors.length, 0);
  });

  it('a consumer that throws fails this try instead of escaping into undici', async () => {
    const t = await started();
    t.handler.onResponseStart(t.controller, 200, {});
    const response = t.response() as unknown as UpstreamResponse;
    const rec: Recorded = { chunks: 0, ends: 0, errors: [] };
    response.stream({
      data: () => {
        throw new Error('bug in the relay');
      },
      end: () => rec.ends++,
      error: (e) => rec.errors.push(e),
    });
    assert.doesNotThrow(() => t.handler.onResponseData(t.controller, Buffer.from('a')));
    assert.ok(t.controller.aborted, 'undici is told to stop this request');
    t.handler.onResponseError(t.controller, t.controller.abortReason as Error);
    assert.equal(rec.errors.length, 1);
    assert.equal((rec.errors[0] as SpookyError).code, 'internal');
  });

  it('a reset after the request went out is upstream_reset, before it upstream_connect_failed', async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const after = await started();
    after.handler.onResponseError(after.controller, reset);
    assert.equal((after.rejected() as unknown as SpookyError).code, 'upstream_reset');

    let rejected: SpookyError | null = null;
    const before = new ForwardHandler({ method: 'GET', path: '/', headers: [], body: null, signal: new AbortController().signal }, () => {}, (e) => {
      rejected = e as SpookyError;
    });
    before.onResponseError(null, reset);
    assert.equal((rejected as unknown as SpookyError).code, 'upstream_connect_failed');
  });

  it('a failure caused by the client body going away is client_aborted, never the backend’s fault', async () => {
    const t = await started();
    t.handler.onResponseError(t.controller, new SpookyError('client_aborted', 'client aborted the request body'));
    assert.equal((t.rejected() as unknown as SpookyError).code, 'client_aborted');
  });

  it('a body still streaming past upstream_body_total_timeout_ms fails the try with upstream_timeout', async () => {
    let now = 0;
    const deadlines = new DeadlineQueue(() => now);
    const t = await started(undefined, 1000, deadlines);
    now = 400; // the bound counts from the head, not from dispatch
    t.handler.onResponseStart(t.controller, 200, {});
    const response = t.response() as unknown as UpstreamResponse;
    const rec: Recorded = { chunks: 0, ends: 0, errors: [] };
    response.stream(consumer(rec, () => true));
    t.handler.onResponseData(t.controller, Buffer.from('a'));
    now = 1399;
    deadlines.expireDue();
    assert.equal(t.controller.aborted, false, 'not before the bound');
    now = 1400;
    deadlines.expireDue();
    assert.ok(t.controller.aborted, 'undici is told to stop');
    assert.equal((t.controller.abortReason as SpookyError).code, 'upstream_timeout');
    t.handler.onResponseError(t.controller, t.controller.abortReason as Error);
    assert.equal(rec.errors.length, 1);
    assert.equal((rec.errors[0] as SpookyError).code, 'upstream_timeout');
    assert.equal(deadlines.size, 0);
  });

  it('the body total bound ends with the upstream body: a slow reader is left to the request deadline', async () => {
    let now = 0;
    const deadlines = new DeadlineQueue(() => now);
    const t = await started(undefined, 1000, deadlines);
    t.handler.onResponseStart(t.controller, 200, {});
    assert.equal(deadlines.size, 1);
    const response = t.response() as unknown as UpstreamResponse;
    const rec: Recorded = { chunks: 0, ends: 0, errors: [] };
    response.stream(consumer(rec, () => false)); // backpressured client
    t.handler.onResponseData(t.controller, Buffer.from('a'));
    t.handler.onResponseEnd(t.controller, {});
    assert.equal(deadlines.size, 0, 'undici is done: the bound is off');
    now = 5000;
    deadlines.expireDue();
    assert.equal(rec.errors.length, 0);
    assert.equal(t.controller.aborted, false);
  });

  it('without a body total bound no deadline entry is taken', async () => {
    const deadlines = new DeadlineQueue(() => 0);
    const t = await started(undefined, null, deadlines);
    t.handler.onResponseStart(t.controller, 200, {});
    assert.equal(deadlines.size, 0);
  });
});
