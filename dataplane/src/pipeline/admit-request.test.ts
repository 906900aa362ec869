/**
 * admitRequest in the real pipeline (memory exchange, fake transport that holds, delays or
 * answers at once): adaptive admission sheds exactly the excess and is fed only by upstream
 * latencies; brownout sheds non-core upstreams with hysteresis; a full upstream cap queues
 * (bounded, FIFO hand-over) and a client that leaves while queued is taken out.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseConfig } from '@spooky/config';
import { compileGeneration } from '../compile/compile-generation.ts';
import { SpookyError } from '../errors.ts';
import { fakeProberFactory } from '../health/testing/fake-prober.ts';
import { ManualScheduler } from '../health/testing/manual-scheduler.ts';
import type { BackendTransport, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import { createMemoryExchange } from '../http/memory-exchange.ts';
import { createMetrics } from '../observability/metrics.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { capturedLogger, type LoggedLine } from '../testing/captured-logger.ts';
import { createRequestHandler } from './request-handler.ts';

const SLOW_MS = 300;
const HIGH_LATENCY_MS = 150;

function okResponse(): UpstreamResponse {
  return { status: 200, headers: [], stream: (c) => c.end([]), resume: () => {}, abort: () => {} };
}

/** Paths ending in /hold or /stuck wait for `releaseOne`, /slow answer after SLOW_MS, others at once. */
class FakeBackends {
  readonly held: Array<() => void> = [];
  forwards = 0;

  transport = (): BackendTransport => ({
    protocol: 'h1',
    forward: (req: UpstreamRequest) => {
      this.forwards++;
      return new Promise<UpstreamResponse>((resolve, reject) => {
        const onAbort = () => reject(req.signal.reason instanceof SpookyError ? req.signal.reason : new SpookyError('client_aborted', 'aborted'));
        // /stuck: a backend that ignores cancellation (the request holds its permits until released).
        if (!req.path.endsWith('/stuck')) req.signal.addEventListener('abort', onAbort, { once: true });
        const answer = () => {
          req.signal.removeEventListener('abort', onAbort);
          resolve(okResponse());
        };
        if (req.path.endsWith('/hold') || req.path.endsWith('/stuck')) this.held.push(answer);
        else if (req.path.endsWith('/slow')) setTimeout(answer, SLOW_MS);
        else answer();
      });
    },
    close: () => Promise.resolve(),
  });

  releaseOne(): void {
    const next = this.held.shift();
    assert.ok(next, 'a held request to release');
    next();
  }
}

/** Waits (bounded) until `cond` holds, yielding to I/O between checks. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 3000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

interface Answer {
  readonly status: number;
  readonly reason: string | undefined;
  readonly retryAfter: string | undefined;
}

describe('admitRequest in the pipeline', () => {
  let state: LongLivedState;
  let backends: FakeBackends;
  let handle: ReturnType<typeof createRequestHandler>;
  let lines: LoggedLine[];

  async function setup(overrides: { performance?: Record<string, unknown>; resilience?: Record<string, unknown> }): Promise<void> {
    backends = new FakeBackends();
    state = new LongLivedState({ createTransport: backends.transport, health: { createProber: fakeProberFactory().factory, scheduler: new ManualScheduler() } });
    const parsed = parseConfig({
      version: 1,
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
      upstream: {
        core: { route: { path_prefix: '/core' }, backends: [{ id: 'c', address: 'http://127.0.0.1:1001' }] },
        web: { route: { path_prefix: '/web' }, backends: [{ id: 'w', address: 'http://127.0.0.1:1002' }] },
      },
      performance: { request_timeout_ms: 10_000, ...overrides.performance },
      resilience: { circuit_breaker: { enabled: false }, ...overrides.resilience },
    });
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
    const compiled = compileGeneration(parsed.config, null, state);
    assert.ok(compiled.ok);
    const store = new GenerationStore();
    store.swap(compiled.generation);
    await state.retain(compiled.generation);
    const captured = capturedLogger('info');
    lines = captured.lines;
    handle = createRequestHandler({ store, state, logger: captured.logger });
  }

  afterEach(async () => {
    for (const answer of backends.held.splice(0)) answer();
    await state.close();
  });

  /** Starts one request; resolves with its answer once the response is finished. */
  function send(path: string): { done: Promise<Answer>; client: AbortController } {
    const ex = createMemoryExchange({ path });
    // A client that left gets no reply: the sink is never finished (the ingress would close it).
    const done = handle(ex)
      .then(() => (ex.signal.aborted ? undefined : ex.response.finished))
      .then(() => {
        const h = (n: string) => ex.response.headers.find(([k]) => k === n)?.[1];
        return { status: ex.response.status, reason: h('spooky-reason'), retryAfter: h('retry-after') };
      });
    return { done, client: ex.abortController };
  }

  it('default config: admission on at the global limit (4096), nothing shed on a healthy fleet, every permit returned', async () => {
    await setup({});
    assert.equal(state.admission.limit, 4096);
    for (let i = 0; i < 50; i++) assert.equal((await send('/web/fast').done).status, 200);
    const pending = Array.from({ length: 64 }, (_, i) => send(i % 2 === 0 ? '/web/hold' : '/core/hold').done);
    await until(() => backends.held.length === 64, '64 requests at the backends');
    while (backends.held.length > 0) backends.releaseOne();
    const answers = await Promise.all(pending);
    assert.equal(answers.filter((a) => a.status !== 200).length, 0, 'nothing shed');
    assert.deepEqual([state.admission.limit, state.admission.active, state.inflight.global.active, state.routeQueue.length()], [4096, 0, 0, 0]);
  });

  it('adaptive admission: with the limit at 4, 7 concurrent requests → exactly 3 shed with 503 admission_limit + Retry-After', async () => {
    await setup({ resilience: { adaptive_admission: { min_limit: 2, max_limit: 4 }, route_queue: { shed_retry_after_seconds: 2 } } });
    assert.equal(state.admission.limit, 4);
    const pending = Array.from({ length: 7 }, () => send('/web/hold').done);
    await until(() => backends.held.length === 4, '4 requests at the backend');
    const shedNow = await Promise.race([Promise.all(pending.slice(4)), new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    assert.deepEqual(shedNow, Array(3).fill({ status: 503, reason: 'admission_limit', retryAfter: '2' }));
    for (let i = 0; i < 4; i++) backends.releaseOne();
    const admitted = await Promise.all(pending.slice(0, 4));
    assert.deepEqual(
      admitted.map((a) => a.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual([state.admission.active, state.inflight.global.active, backends.forwards], [0, 0, 4], 'every permit returned; sheds never reached a backend');
    assert.equal(state.admission.limit, 4, 'fast heads keep it at max; its own sheds did not feed it');
  });

  it('adaptive admission: slow heads shrink the limit to min_limit, fast ones regrow it; sheds and unroutable requests do not feed it', async () => {
    await setup({ resilience: { adaptive_admission: { min_limit: 2, max_limit: 4, decrease_step: 1, increase_step: 1, high_latency_ms: HIGH_LATENCY_MS } } });
    const table: Array<[string, number]> = [
      ['/web/slow', 3],
      ['/web/slow', 2],
      ['/web/slow', 2],
      ['/nowhere', 2],
    ];
    for (const [path, limit] of table) {
      await send(path).done;
      assert.equal(state.admission.limit, limit, `after ${path}`);
    }
    // The shrunk limit is in force: 3 concurrent → 1 shed, and the shed does not move it.
    const pending = Array.from({ length: 3 }, () => send('/web/hold').done);
    await until(() => backends.held.length === 2, '2 requests at the backend');
    assert.equal((await pending[2])?.reason, 'admission_limit');
    assert.equal(state.admission.limit, 2);
    backends.releaseOne();
    backends.releaseOne();
    await Promise.all(pending);
    assert.equal(state.admission.limit, 4, 'the two fast heads regrew it (+1 each)');
    await send('/web/fast').done;
    assert.equal(state.admission.limit, 4, 'capped at max_limit');
  });

  it('brownout: above the trigger non-core upstreams get 503 brownout, core ones pass; off again only at the recover level, transitions logged once', async () => {
    await setup({
      performance: { global_inflight_limit: 10 },
      resilience: { brownout: { enabled: true, trigger_inflight_percent: 50, recover_inflight_percent: 20, core_routes: ['core'] } },
    });
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.watchResilience(state);
    const scrape = () => metrics.registry.metrics();
    const core = Array.from({ length: 5 }, () => send('/core/hold').done);
    await until(() => backends.held.length === 5, '5 core requests held');
    assert.equal(state.brownout.active, false, 'observed at 0..40 %');
    // [path, status, reason, active afterwards]; each request observes the permits held at its arrival.
    const steps: Array<[string, number, string | undefined, boolean]> = [
      ['/web/fast', 503, 'brownout', true], // 5/10 = 50 % → on
      ['/core/fast', 200, undefined, true], // core passes
    ];
    for (const [path, status, reason, active] of steps) {
      const a = await send(path).done;
      assert.deepEqual([a.status, a.reason, state.brownout.active], [status, reason, active], path);
    }
    assert.match(await scrape(), /^spooky_brownout_active 1$/m);
    const table: Array<[number, number, string | undefined]> = [
      // [held after releasing, web status, reason]
      [4, 503, 'brownout'], // 40 %: above recover, still on
      [3, 503, 'brownout'], // 30 %
      [2, 200, undefined], // 20 %: off
    ];
    for (const [held, status, reason] of table) {
      while (backends.held.length > held) backends.releaseOne();
      await until(() => state.inflight.global.active === held, `${held} permits held`);
      const a = await send('/web/fast').done;
      assert.deepEqual([a.status, a.reason], [status, reason], `with ${held} held`);
    }
    const a = await send('/web/fast').done;
    assert.equal(a.status, 200, 'stays off below the trigger');
    while (backends.held.length > 0) backends.releaseOne();
    await Promise.all(core);
    const transitions = lines.filter((l) => l.msg === 'brownout on' || l.msg === 'brownout off');
    assert.deepEqual(
      transitions.map((l) => [l.msg, l.pressurePercent]),
      [
        ['brownout on', 50],
        ['brownout off', 20],
      ],
    );
    const text = await scrape();
    metrics.close();
    assert.match(text, /^spooky_brownout_active 0$/m);
    assert.match(text, /^spooky_overload_shed_by_reason_total\{reason="brownout"\} 3$/m);
    assert.match(text, /^spooky_admission_limit 64$/m, 'min_limit (64) above the global cap: the global cap rules');
    assert.match(text, /^spooky_route_queue_waiting\{lane="upstream"\} 0$/m);
  });

  it('upstream cap full: requests wait in the route queue (FIFO hand-over, bounded: queue_full), a client that leaves is taken out', async () => {
    await setup({ performance: { per_upstream_inflight_limit: 1 }, resilience: { route_queue: { default_cap: 2, caps: { core: 0 } } } });
    const first = send('/web/hold');
    await until(() => backends.held.length === 1, 'the first request at the backend');
    const leaving = send('/web/hold');
    const third = send('/web/hold');
    await until(() => state.routeQueue.length('web') === 2, 'two queued');
    assert.deepEqual(await send('/web/hold').done, { status: 503, reason: 'queue_full', retryAfter: '1' });
    leaving.client.abort();
    const left = await leaving.done;
    assert.deepEqual([left.status, left.reason], [0, undefined], 'no reply to a client that left');
    assert.deepEqual([state.routeQueue.length('web'), state.routeQueue.upstreamWaiting], [1, 1], 'the leaver is out of the queue');
    assert.deepEqual([state.inflight.global.active, state.admission.active], [1, 1], 'waiters hold no permit');
    backends.releaseOne();
    assert.equal((await first.done).status, 200);
    await until(() => backends.held.length === 1, 'the queued request was handed the permit');
    assert.equal(state.routeQueue.length(), 0);
    backends.releaseOne();
    assert.equal((await third.done).status, 200);
    assert.deepEqual([state.inflight.global.active, state.admission.active, backends.forwards], [0, 0, 2]);
    // A queue cap of 0: shed at once with the cap's own reason.
    const heldCore = send('/core/hold');
    await until(() => backends.held.length === 1, 'a core request held');
    assert.deepEqual(await send('/core/fast').done, { status: 503, reason: 'inflight_upstream', retryAfter: '1' });
    backends.releaseOne();
    await heldCore.done;
  });

  it('route_queue.max_wait_ms: a waiter is shed with 503 queue_timeout (before the request deadline), out of the queue, holding nothing', async () => {
    await setup({ performance: { per_upstream_inflight_limit: 1 }, resilience: { route_queue: { max_wait_ms: 100 } } });
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.watchResilience(state);
    const first = send('/web/hold');
    await until(() => backends.held.length === 1, 'the first request at the backend');
    const queuedAt = performance.now();
    const waiting = send('/web/hold');
    await until(() => state.routeQueue.length('web') === 1, 'one queued');
    assert.deepEqual(await waiting.done, { status: 503, reason: 'queue_timeout', retryAfter: '1' });
    const waitedMs = performance.now() - queuedAt;
    assert.ok(waitedMs >= 95 && waitedMs < 5_000, `shed after ${waitedMs.toFixed(0)} ms (max_wait_ms 100, request deadline 10 s)`);
    assert.deepEqual([state.routeQueue.length(), state.routeQueue.upstreamWaiting], [0, 0]);
    assert.deepEqual([state.inflight.global.active, state.admission.active], [1, 1], 'only the first request holds permits');
    // The permits of the first go back to the gauges, not to the waiter that timed out.
    backends.releaseOne();
    assert.equal((await first.done).status, 200);
    assert.deepEqual([state.inflight.global.active, state.admission.active, backends.forwards], [0, 0, 1]);
    // A waiter handed a permit in time is served; its wait limit does not fire later.
    const again = send('/web/hold');
    await until(() => backends.held.length === 1, 'held again');
    const served = send('/web/fast');
    await until(() => state.routeQueue.length('web') === 1, 'queued again');
    backends.releaseOne();
    assert.equal((await again.done).status, 200);
    assert.equal((await served.done).status, 200, 'handed the permit before max_wait_ms');
    const text = await metrics.registry.metrics();
    metrics.close();
    assert.match(text, /^spooky_overload_shed_by_reason_total\{reason="queue_timeout"\} 1$/m);
  });

  it('a queued request is bounded by the request deadline: 504 request_timeout and out of the queue', async () => {
    await setup({ performance: { per_upstream_inflight_limit: 1, request_timeout_ms: 150 } });
    const first = send('/web/stuck');
    await until(() => backends.held.length === 1, 'the first request at the backend');
    const waiting = send('/web/hold');
    await until(() => state.routeQueue.length('web') === 1, 'one queued');
    const answer = await waiting.done;
    assert.deepEqual([answer.status, answer.reason], [504, 'request_timeout']);
    assert.equal(state.routeQueue.length(), 0);
    assert.equal(backends.forwards, 1, 'the waiter never reached a backend');
    backends.releaseOne();
    await first.done;
    assert.deepEqual([state.inflight.global.active, state.admission.active], [0, 0]);
  });
});
