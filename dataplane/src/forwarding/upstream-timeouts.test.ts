/**
 * Per-upstream timeouts through the real pipeline (memory exchange → stages → undici → a real
 * origin): an upstream's own `request_timeout_ms` replaces the global one for the requests
 * routed to it (counted from accept), and `upstream_body_total_timeout_ms` cuts a response
 * whose body keeps trickling (no idle gap) with `upstream_timeout` after the head.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import { createMemoryExchange, type MemoryExchangeOptions } from '../http/memory-exchange.ts';
import type { RequestEndEvent } from '../pipeline/events.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';
import { type Origins, startOrigins } from '../testing/origins.ts';

const GLOBAL_REQUEST_MS = 1500;
const QUICK_REQUEST_MS = 500;
const BODY_TOTAL_MS = 400;

describe('per-upstream timeouts in the pipeline', () => {
  let origins: Origins;
  const state = new LongLivedState();
  const store = new GenerationStore();
  const handle = createRequestHandler({ store, state, logger: pino({ level: 'silent' }) });
  const events: RequestEndEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as RequestEndEvent);

  before(async () => {
    origins = await startOrigins();
    const backends = [{ id: 'o', address: `http://127.0.0.1:${origins.h1Port}` }];
    const caseRoute = (name: string) => ({ path_prefix: '/h1', headers: [{ name: 'x-case', exact: name }] });
    const parsed = parseConfig({
      version: 1,
      listen: { protocol: 'http3', address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
      performance: { upstream_connect_timeout_ms: 400, upstream_headers_timeout_ms: 400, upstream_body_idle_timeout_ms: 1000, request_timeout_ms: GLOBAL_REQUEST_MS },
      upstream: {
        plain: { route: { path_prefix: '/h1' }, backends },
        quick: { route: caseRoute('quick'), timeouts: { request_timeout_ms: QUICK_REQUEST_MS }, backends },
        total: { route: caseRoute('total'), timeouts: { upstream_body_total_timeout_ms: BODY_TOTAL_MS }, backends },
      },
    });
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
    const compiled = compileGeneration(parsed.config, { scope: 'test', seq: 1, digest: 'a'.repeat(64) }, state);
    assert.ok(compiled.ok);
    store.swap(compiled.generation);
    subscribe(CHANNELS.requestEnd, onEvent);
  });
  after(async () => {
    unsubscribe(CHANNELS.requestEnd, onEvent);
    await state.close();
    await origins.close();
  });

  let seq = 0;
  /** Runs one request (several may run at once); its RequestEndEvent is found by request id. */
  async function run(options: MemoryExchangeOptions) {
    const id = `t-${++seq}`;
    const ex = createMemoryExchange({ ...options, headers: [...(options.headers ?? []), ['x-request-id', id]] });
    await handle(ex);
    await ex.response.finished;
    const mine = events.filter((e) => e.requestId === id);
    assert.equal(mine.length, 1, 'exactly one RequestEndEvent');
    return { sink: ex.response, event: mine[0] as RequestEndEvent };
  }

  test('an upstream with its own request_timeout_ms is cut at it; the others at the global one', async () => {
    const [quick, plain] = await Promise.all([run({ path: '/h1/trickle', headers: [['x-case', 'quick']] }), run({ path: '/h1/trickle' })]);
    assert.equal(quick.event.upstream, 'quick');
    assert.equal(quick.sink.status, 200, 'the head went out first');
    assert.equal(quick.sink.aborted, 'internal');
    assert.equal(quick.event.outcome, 'timeout:request');
    assert.ok(quick.event.durationMs >= QUICK_REQUEST_MS - 20 && quick.event.durationMs < GLOBAL_REQUEST_MS - 200, `quick: ${quick.event.durationMs} ms`);
    assert.equal(plain.event.upstream, 'plain');
    assert.equal(plain.event.outcome, 'timeout:request');
    assert.ok(plain.event.durationMs >= GLOBAL_REQUEST_MS - 20 && plain.event.durationMs < GLOBAL_REQUEST_MS + 3000, `plain: ${plain.event.durationMs} ms`);
  });

  test('upstream_body_total_timeout_ms cuts a body that never goes idle: upstream_timeout, client stream reset', async () => {
    const { sink, event } = await run({ path: '/h1/trickle', headers: [['x-case', 'total']] });
    assert.equal(event.upstream, 'total');
    assert.equal(sink.status, 200);
    assert.equal(sink.aborted, 'internal', 'the client stream is reset, not ended cleanly');
    assert.equal(event.outcome, 'upstream:body_timeout');
    assert.ok(event.durationMs >= BODY_TOTAL_MS - 20 && event.durationMs < GLOBAL_REQUEST_MS - 200, `${event.durationMs} ms`);
  });

  test('a response that completes inside the body total bound is relayed whole', async () => {
    const { sink, event } = await run({ path: '/h1/big', headers: [['x-case', 'total']] });
    assert.equal(sink.status, 200);
    assert.equal(sink.aborted, null);
    assert.equal(event.outcome, 'ok');
    assert.equal(sink.body.length, 1024 * 1024);
  });
});
