/**
 * The request path end to end in process: a memory Exchange (the ingress is the only fake)
 * through the real pipeline, undici transports and real origins (node:http H1, node:http2 TLS).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type Config, parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import { createMemoryExchange, type MemoryExchangeOptions } from '../http/memory-exchange.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';
import { bigBody, MIB, type Origins, startOrigins } from '../testing/origins.ts';
import type { RequestEndEvent } from './events.ts';
import { createRequestHandler } from './request-handler.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function configFor(o: Origins, extra: Record<string, unknown> = {}): Config {
  const parsed = parseConfig({
    version: 1,
    listen: { protocol: 'http3', address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
    upstream: {
      h1: { route: { path_prefix: '/h1' }, backends: [{ id: 'h1-a', address: `http://127.0.0.1:${o.h1Port}` }] },
      h2: { route: { path_prefix: '/h2' }, backends: [{ id: 'h2-a', address: `https://127.0.0.1:${o.h2Port}` }] },
      dead: { route: { path_prefix: '/dead' }, backends: [{ id: 'dead-a', address: `http://127.0.0.1:${o.closedPort}` }] },
    },
    upstream_tls: { ca_file: o.caFile },
    performance: {
      upstream_connect_timeout_ms: 400,
      upstream_headers_timeout_ms: 400,
      upstream_body_idle_timeout_ms: 5000,
      request_timeout_ms: 10000,
    },
    ...extra,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

describe('request handler against real origins', () => {
  let origins: Origins;
  const state = new LongLivedState();
  const store = new GenerationStore();
  const handle = createRequestHandler({ store, state, logger: pino({ level: 'silent' }) });
  const events: RequestEndEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as RequestEndEvent);

  before(async () => {
    origins = await startOrigins();
    const compiled = compileGeneration(configFor(origins), { scope: 'test', seq: 7, digest: 'd'.repeat(64) }, state);
    assert.ok(compiled.ok);
    store.swap(compiled.generation);
    subscribe(CHANNELS.requestEnd, onEvent);
  });
  after(async () => {
    unsubscribe(CHANNELS.requestEnd, onEvent);
    await state.close();
    await origins.close();
  });

  async function run(options: MemoryExchangeOptions) {
    const ex = createMemoryExchange(options);
    const before = events.length;
    await handle(ex);
    await ex.response.finished;
    assert.equal(events.length, before + 1, 'exactly one RequestEndEvent');
    return { sink: ex.response, event: events.at(-1) as RequestEndEvent };
  }

  test('routes by path to the H1 origin, status/headers/body intact, request id kept', async () => {
    const { sink, event } = await run({
      method: 'POST',
      path: '/h1/created?x=1',
      headers: [['x-request-id', 'req-123'], ['content-type', 'text/plain']],
      body: [Buffer.from('hello')],
    });
    assert.equal(sink.status, 201);
    assert.equal(sink.header('x-origin'), 'h1');
    assert.equal(sink.header('x-seen-path'), '/h1/created?x=1');
    assert.equal(sink.header('x-seen-method'), 'POST');
    assert.equal(sink.header('x-request-id'), 'req-123');
    assert.equal(sink.body.toString(), 'hello');
    assert.equal(event.upstream, 'h1');
    assert.equal(event.backend, 'h1-a');
    assert.equal(event.status, 201);
    assert.equal(event.outcome, 'ok');
    assert.equal(event.generationSeq, 7);
    assert.equal(event.bytesIn, 5);
    assert.equal(event.bytesOut, 5);
  });

  test('routes by path to the H2 TLS origin (ca_file), :authority passed through', async () => {
    const { sink } = await run({ path: '/h2/echo', authority: 'app.example:443' });
    assert.equal(sink.status, 200);
    assert.equal(sink.header('x-origin'), 'h2');
    assert.equal(sink.header('x-seen-authority'), 'app.example:443');
    assert.equal(sink.header('x-seen-te'), '');
  });

  test('hop-by-hop headers are stripped both ways; forwarding headers added', async () => {
    const { sink } = await run({
      path: '/h1/echo',
      headers: [
        ['connection', 'x-listed'],
        ['x-listed', 'drop me'],
        ['keep-alive', 'timeout=5'],
        ['te', 'gzip'],
        ['upgrade', 'websocket'],
        ['proxy-authorization', 'Basic c2VjcmV0'],
        ['x-forwarded-for', '1.2.3.4'],
        ['x-request-id', 'bad id with spaces'],
        ['x-app', 'kept'],
      ],
    });
    const seen = JSON.parse(sink.header('x-seen-headers') ?? '{}') as Record<string, string>;
    for (const gone of ['x-listed', 'keep-alive', 'upgrade', 'proxy-authorization']) assert.equal(seen[gone], undefined, gone);
    assert.equal(seen.te, 'trailers');
    assert.equal(seen['x-app'], 'kept');
    assert.equal(seen.host, 'localhost');
    assert.equal(seen['x-forwarded-for'], '203.0.113.9');
    assert.equal(seen['x-forwarded-proto'], 'https');
    assert.equal(seen['x-forwarded-host'], 'localhost');
    assert.match(seen['x-request-id'] ?? '', /^[0-9a-f]{16}-[0-9a-z]+$/);
    assert.equal(sink.header('x-request-id'), seen['x-request-id']);
    assert.equal(seen.via, '3 spooky');
    assert.equal(seen.forwarded, 'for=203.0.113.9;proto=https;host=localhost');
    assert.match(seen.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const hop = await run({ path: '/h1/hop' });
    const names = hop.sink.headers.map(([n]) => n);
    for (const gone of ['connection', 'x-resp-listed', 'proxy-authenticate', 'upgrade', 'keep-alive', 'transfer-encoding']) {
      assert.ok(!names.includes(gone), gone);
    }
    assert.equal(hop.sink.header('x-kept'), 'yes');
    assert.deepEqual(hop.sink.headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v), ['a=1', 'b=2']);
    assert.equal(hop.sink.body.toString(), 'hop');
  });

  for (const target of ['/h1/echo', '/h2/echo']) {
    test(`1 MiB request body streamed up and back (${target}), with client backpressure`, async () => {
      const body = bigBody();
      const chunks = Array.from({ length: 16 }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
      const { sink, event } = await run({ method: 'PUT', path: target, body: chunks, highWaterMark: 64 * 1024 });
      assert.equal(sink.status, 200);
      assert.equal(sink.body.length, MIB);
      assert.equal(sha(sink.body), sha(body));
      assert.ok(sink.writesRefused > 0, 'write() reported a full buffer at least once');
      assert.equal(event.bytesIn, MIB);
      assert.equal(event.bytesOut, MIB);
    });
  }

  test('1 MiB response body streamed from the H1 origin', async () => {
    const { sink } = await run({ path: '/h1/big', highWaterMark: 16 * 1024 });
    assert.equal(sink.header('content-length'), String(MIB));
    assert.equal(sha(sink.body), sha(bigBody()));
  });

  test('trailers relayed from the H2 origin (grpc-status) and the H1 origin', async () => {
    const { sink } = await run({ method: 'POST', path: '/h2/trailers', body: [Buffer.from('x')] });
    assert.equal(sink.body.toString(), 'h2-body');
    assert.deepEqual(sink.trailers, [['grpc-status', '0'], ['grpc-message', 'ok']]);
    const h1 = await run({ path: '/h1/trailers' });
    assert.deepEqual(h1.sink.trailers, [['x-checksum', 'abc']]);
    assert.equal(h1.sink.header('trailer'), undefined);
  });

  test('HEAD gets the head only', async () => {
    const { sink } = await run({ method: 'HEAD', path: '/h1/echo' });
    assert.equal(sink.status, 200);
    assert.ok(sink.endedWithHead);
  });

  test('404 no_route (text/plain, spooky-reason)', async () => {
    const { sink, event } = await run({ path: '/nowhere', headers: [['x-request-id', 'r-404']] });
    assert.equal(sink.status, 404);
    assert.equal(sink.header('spooky-reason'), 'no_route');
    assert.equal(sink.header('content-type'), 'text/plain; charset=utf-8');
    assert.equal(sink.header('x-request-id'), 'r-404');
    assert.equal(sink.body.toString(), '404 Not Found\n');
    assert.equal(event.outcome, 'no_route');
    assert.equal(event.upstream, null);
  });

  test('problem+json when the client accepts json', async () => {
    const { sink } = await run({ path: '/nowhere', headers: [['accept', 'application/json']] });
    assert.equal(sink.header('content-type'), 'application/problem+json');
    const problem = JSON.parse(sink.body.toString()) as { status: number; code: string };
    assert.equal(problem.status, 404);
    assert.equal(problem.code, 'no_route');
  });

  test('502 upstream_connect_failed when the backend port is closed', async () => {
    const { sink, event } = await run({ path: '/dead/x' });
    assert.equal(sink.status, 502);
    assert.equal(sink.header('spooky-reason'), 'upstream_connect_failed');
    assert.equal(event.outcome, 'upstream:connect_failed');
    assert.equal(event.attempts, 1);
  });

  test('504 upstream_timeout when the origin never sends headers', async () => {
    const { sink, event } = await run({ path: '/h1/never' });
    assert.equal(sink.status, 504);
    assert.equal(sink.header('spooky-reason'), 'upstream_timeout');
    assert.equal(event.outcome, 'upstream:timeout');
  });

  test('compat switches give the Rust answers: 502 for no route, 503 for an upstream timeout', async () => {
    const compiled = compileGeneration(
      configFor(origins, { compat: { no_route_status: 502, upstream_timeout_status: 503 } }),
      { scope: 'test', seq: 8, digest: 'e'.repeat(64) },
      state,
    );
    assert.ok(compiled.ok);
    const previous = store.swap(compiled.generation);
    try {
      const noRoute = await run({ path: '/nowhere' });
      assert.equal(noRoute.sink.status, 502);
      assert.equal(noRoute.sink.header('spooky-reason'), 'no_route', 'the reason code stays ours');
      const timeout = await run({ path: '/h1/never' });
      assert.equal(timeout.sink.status, 503);
      assert.equal(timeout.sink.header('spooky-reason'), 'upstream_timeout');
    } finally {
      if (previous) store.swap(previous);
    }
  });

  test('limits: a streamed body over max_request_body_bytes → 413; the whole-request deadline cuts a trickling response', async () => {
    const limited = compileGeneration(
      configFor(origins, {
        performance: {
          upstream_connect_timeout_ms: 200,
          upstream_headers_timeout_ms: 300,
          upstream_body_idle_timeout_ms: 400,
          request_timeout_ms: 600,
          max_request_body_bytes: 1000,
        },
      }),
      { scope: 'test', seq: 9, digest: 'f'.repeat(64) },
      state,
    );
    assert.ok(limited.ok);
    const previous = store.swap(limited.generation);
    try {
      // No content-length: only counting the streamed bytes can catch it.
      const big = await run({ method: 'POST', path: '/h1/never', body: [Buffer.alloc(600), Buffer.alloc(600), Buffer.alloc(600)] });
      assert.equal(big.sink.status, 413);
      assert.equal(big.sink.header('spooky-reason'), 'body_too_large');
      assert.equal(big.event.outcome, 'rejected:body_too_large');

      const trickle = await run({ path: '/h1/trickle' });
      assert.equal(trickle.sink.status, 200, 'the head was relayed before the deadline');
      assert.equal(trickle.sink.aborted, 'internal', 'the response is cut, not ended cleanly');
      assert.equal(trickle.event.outcome, 'timeout:request');
      assert.ok(trickle.event.durationMs >= 550 && trickle.event.durationMs < 5000, String(trickle.event.durationMs));
    } finally {
      if (previous) store.swap(previous);
    }
  });

  test('a response the client has not taken yet keeps the deadline: the stream is reset at request_timeout_ms', async () => {
    const limited = compileGeneration(configFor(origins, { performance: { request_timeout_ms: 400 } }), { scope: 'test', seq: 10, digest: 'e'.repeat(64) }, state);
    assert.ok(limited.ok);
    const previous = store.swap(limited.generation);
    try {
      // The sink took the whole body but its client never reads: the stream is not done.
      const stuck = createMemoryExchange({ path: '/h1/echo' });
      const sink = stuck.response;
      const wasReset = Promise.withResolvers<string>();
      let reset: string | null = null;
      Object.defineProperty(sink, 'done', { get: () => reset !== null });
      sink.whenDone = (fn: () => void) => {
        void wasReset.promise.then(fn);
      };
      const abort = sink.abort.bind(sink);
      sink.abort = (reason) => {
        reset = reason;
        abort(reason);
        wasReset.resolve(reason);
      };
      const startedAt = performance.now();
      await handle(stuck);
      assert.equal(sink.status, 200, 'relayed in full before the deadline');
      assert.equal(reset, null, 'the runner returned; the stream still waits for its client');
      const bound = setTimeout(() => wasReset.reject(new Error('never reset')), 5000);
      await wasReset.promise.finally(() => clearTimeout(bound));
      assert.equal(reset, 'internal');
      assert.ok(performance.now() - startedAt >= 380, 'at the deadline, not before');
    } finally {
      if (previous) store.swap(previous);
    }
  });

  test('screening rejects before routing', async () => {
    const cases: Array<[MemoryExchangeOptions, number, string]> = [
      [{ path: '/h1/../etc' }, 400, 'bad_path'],
      [{ path: '/h1//x' }, 400, 'bad_path'],
      [{ path: 'h1' }, 400, 'bad_path'],
      [{ path: '/h1', authority: 'a.test', headers: [['host', 'b.test']] }, 400, 'authority_mismatch'],
      [{ path: '/h1', method: 'POST', headers: [['content-length', String(2 ** 40)]] }, 413, 'body_too_large'],
      [{ path: '/h1', headers: Array.from({ length: 101 }, (_, i) => [`x-h${i}`, 'v'] as [string, string]) }, 431, 'headers_too_large'],
      [{ path: '/h1', headers: [['x-big', 'v'.repeat(70_000)]] }, 431, 'headers_too_large'],
    ];
    for (const [options, status, reason] of cases) {
      const { sink } = await run(options);
      assert.equal(sink.status, status, `${options.path} ${reason}`);
      assert.equal(sink.header('spooky-reason'), reason);
    }
  });

  test('client abort while waiting for headers cancels the upstream', async () => {
    const ex = createMemoryExchange({ path: '/h1/never' });
    const done = handle(ex);
    setImmediate(() => ex.abortController.abort());
    await done;
    assert.equal(ex.response.headersSent, false);
    assert.equal(events.at(-1)?.outcome, 'client:aborted');
  });

  test('a request body that stalls past client_body_idle_timeout_ms → 408 client_body_timeout (issue 7)', async () => {
    const local = new LongLivedState();
    const localStore = new GenerationStore();
    const perf = { upstream_connect_timeout_ms: 400, upstream_headers_timeout_ms: 5000, upstream_body_idle_timeout_ms: 5000, request_timeout_ms: 20000, client_body_idle_timeout_ms: 300 };
    const compiled = compileGeneration(configFor(origins, { performance: perf }), { scope: 'test', seq: 8, digest: 'e'.repeat(64) }, local);
    assert.ok(compiled.ok);
    localStore.swap(compiled.generation);
    const stalling = createRequestHandler({ store: localStore, state: local, logger: pino({ level: 'silent' }) });
    const bodies: PassThrough[] = [];
    const stall = async (path: string) => {
      const base = createMemoryExchange({ method: 'POST', path, headers: [['content-length', '100']] });
      const body = new PassThrough();
      bodies.push(body);
      body.write('first bytes, then nothing');
      const startedAt = performance.now();
      await stalling({ ...base, body });
      return { sink: base.response, waited: performance.now() - startedAt, event: events.at(-1) };
    };
    try {
      // The origin answers only after the whole body: 408 from us.
      const early = await stall('/h1/never');
      assert.equal(early.sink.status, 408);
      assert.equal(early.sink.header('spooky-reason'), 'client_body_timeout');
      assert.equal(early.event?.outcome, 'timeout:client_body');
      assert.ok(early.waited >= 300 && early.waited < 4000, `cut after ${early.waited} ms`);
      // The origin streams its answer while the body still comes: the stream is reset.
      const late = await stall('/h1/echo');
      assert.equal(late.sink.status, 200);
      assert.equal(late.sink.aborted, 'internal');
      assert.equal(late.event?.outcome, 'timeout:client_body');
      assert.ok(late.waited < 4000, `cut after ${late.waited} ms`);
    } finally {
      for (const body of bodies) body.destroy();
      await local.close();
    }
  });

  test('503 no_generation before any generation is served', async () => {
    const empty = createRequestHandler({ store: new GenerationStore(), state, logger: pino({ level: 'silent' }) });
    const ex = createMemoryExchange({ path: '/h1/echo' });
    await empty(ex);
    assert.equal(ex.response.status, 503);
    assert.equal(ex.response.header('spooky-reason'), 'no_generation');
    assert.equal(events.at(-1)?.outcome, 'no_generation');
  });

  test('compile: unreadable ca_file → issue at /upstream_tls/ca_file', () => {
    const config = configFor(origins, { upstream_tls: { ca_file: '/nonexistent/ca.pem' } });
    const result = compileGeneration(config, null, new LongLivedState());
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.issues[0]?.pointer, '/upstream_tls/ca_file');
      assert.equal(result.issues[0]?.code, 'tls.ca_file.unreadable');
    }
  });
});
