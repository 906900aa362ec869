/**
 * traffic_split and mirror through the real pipeline (request handler, undici transports) with
 * three real HTTP/1.1 origins: `stable` and `canary` share a route 3:1, `shadow` receives
 * fire-and-forget copies. Synchronisation is on origin request events and channel events only.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Config, parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import { createMemoryExchange, type MemoryExchangeOptions } from '../http/memory-exchange.ts';
import type { RequestEndEvent } from '../pipeline/events.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import { routeTraceChannel, startRouteTrace } from '../routing/route-trace.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';
import { capturedLogger } from '../testing/captured-logger.ts';
import { closedTcpPort } from '../testing/free-port.ts';
import { MIRROR_CHANNEL, type MirrorEvent } from './mirror-events.ts';
import { mirrorRequest } from './mirror-request.ts';

interface Origin {
  readonly name: string;
  readonly port: number;
  readonly seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  /** Resolves once the origin has received `n` requests in total. */
  received(n: number): Promise<void>;
  /** While held, requests wait unanswered until release(). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

async function startOrigin(name: string): Promise<Origin> {
  const seen: Origin['seen'] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let held: Array<() => void> | null = null;
  const answer = (res: ServerResponse) => {
    res.writeHead(200, { 'x-origin': name, 'content-type': 'text/plain' });
    res.end(`from ${name}`);
  };
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
    req.resume();
    req.on('end', () => (held === null ? answer(res) : held.push(() => answer(res))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    received(n) {
      if (seen.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    hold() {
      held ??= [];
    },
    release() {
      const list = held ?? [];
      held = null;
      for (const go of list) go();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function nextMirrorEvent(predicate: (e: MirrorEvent) => boolean): Promise<MirrorEvent> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const e = m as MirrorEvent;
      if (!predicate(e)) return;
      unsubscribe(MIRROR_CHANNEL, on);
      resolve(e);
    };
    subscribe(MIRROR_CHANNEL, on);
  });
}

describe('traffic_split and mirror against real origins', () => {
  let stable: Origin;
  let canary: Origin;
  let shadow: Origin;
  let deadPort: number;
  const state = new LongLivedState();
  const store = new GenerationStore();
  const { logger, lines: logLines } = capturedLogger('debug');
  const handle = createRequestHandler({ store, state, logger });
  const events: RequestEndEvent[] = [];
  const onEnd = (e: unknown) => events.push(e as RequestEndEvent);
  let stopTrace: () => void = () => undefined;

  before(async () => {
    [stable, canary, shadow] = await Promise.all([startOrigin('stable'), startOrigin('canary'), startOrigin('shadow')]);
    deadPort = await closedTcpPort();
    const parsed = parseConfig({
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
      upstream: {
        web: {
          route: { path_prefix: '/web' },
          backends: [{ id: 'stable-1', address: `http://127.0.0.1:${stable.port}` }],
          traffic_split: [{ upstream: 'web', weight: 3 }, { upstream: 'canary', weight: 1 }],
          mirror: { upstream: 'shadow', percent: 100 },
        },
        canary: { backends: [{ id: 'canary-1', address: `http://127.0.0.1:${canary.port}` }] },
        shadow: { backends: [{ id: 'shadow-1', address: `http://127.0.0.1:${shadow.port}` }] },
        lost: { route: { path_prefix: '/lost' }, backends: [{ id: 'stable-1', address: `http://127.0.0.1:${stable.port}` }], mirror: { upstream: 'void' } },
        void: { backends: [{ id: 'dead-1', address: `http://127.0.0.1:${deadPort}` }] },
      },
      performance: { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 5000, upstream_body_idle_timeout_ms: 5000, request_timeout_ms: 10000 },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const config: Config = parsed.config;
    const compiled = compileGeneration(config, { scope: 'test', seq: 1, digest: 'd'.repeat(64) }, state);
    assert.ok(compiled.ok, JSON.stringify(compiled.ok ? [] : compiled.issues));
    store.swap(compiled.generation);
    subscribe(CHANNELS.requestEnd, onEnd);
    stopTrace = startRouteTrace(logger);
  });

  after(async () => {
    stopTrace();
    unsubscribe(CHANNELS.requestEnd, onEnd);
    await mirrorRequest.idle();
    await state.close();
    await Promise.all([stable.close(), canary.close(), shadow.close()]);
  });

  async function run(options: MemoryExchangeOptions) {
    const ex = createMemoryExchange(options);
    await handle(ex);
    await ex.response.finished;
    return { sink: ex.response, event: events.at(-1) as RequestEndEvent };
  }

  test('3:1 split by weight across two origins; every GET mirrored to the shadow without waiting for it', async () => {
    shadow.hold(); // the shadow answers nothing until every client response is complete
    const shadowBefore = shadow.seen.length;
    const origins: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { sink, event } = await run({ path: `/web/page?i=${i}`, authority: 'shop.test' });
      assert.equal(sink.status, 200);
      assert.equal(sink.body.toString(), `from ${sink.header('x-origin')}`);
      assert.equal(event.route, 'web', 'the route is named by its owner');
      assert.equal(event.upstream, sink.header('x-origin') === 'canary' ? 'canary' : 'web', 'the upstream is the split target that served it');
      origins.push(sink.header('x-origin') ?? '?');
    }
    assert.deepEqual(origins, ['stable', 'stable', 'canary', 'stable', 'stable', 'stable', 'canary', 'stable']);
    await shadow.received(shadowBefore + 8);
    const copies = shadow.seen.slice(shadowBefore);
    assert.deepEqual(copies.map((c) => c.url), Array.from({ length: 8 }, (_, i) => `/web/page?i=${i}`));
    assert.ok(copies.every((c) => c.method === 'GET' && c.headers.host === 'shop.test'));
    shadow.release();
    await mirrorRequest.idle();
    assert.ok((mirrorRequest.counts.get('ok') ?? 0) >= 8);
  });

  test('a request with a body is not mirrored; its response is unaffected', async () => {
    const skipped = nextMirrorEvent((e) => e.route === 'web' && e.outcome === 'skipped:body');
    const { sink } = await run({ method: 'POST', path: '/web/form', authority: 'shop.test', body: [Buffer.from('a=1')] });
    assert.equal(sink.status, 200);
    assert.equal((await skipped).upstream, 'shadow');
  });

  test('a failing mirror never affects the response; its error is only an event', async () => {
    const failed = nextMirrorEvent((e) => e.route === 'lost');
    const { sink, event } = await run({ path: '/lost/x', authority: 'shop.test' });
    assert.equal(sink.status, 200);
    assert.equal(sink.header('x-origin'), 'stable');
    assert.equal(event.outcome, 'ok');
    const e = await failed;
    assert.equal(e.upstream, 'void');
    assert.equal(e.outcome, 'error:upstream_connect_failed');
  });

  test('the spooky-route trace logs the winner, the target and the deciding rule at debug', async () => {
    logLines.length = 0;
    await run({ path: '/web/trace', authority: 'shop.test', headers: [['x-request-id', 'trace-1']] });
    const line = logLines.find((l) => l.msg === 'spooky-route' && l.requestId === 'trace-1');
    assert.ok(line, JSON.stringify(logLines));
    assert.equal(line.route, 'web');
    assert.ok(line.target === 'web' || line.target === 'canary');
    assert.equal(line.rule, 'only_candidate');
    assert.deepEqual(line.candidates, [{ upstream: 'web', host: null, prefix: '/web', method: null, constrained: false }]);
  });

  test('below debug nothing subscribes to spooky:route, so no explanation is computed', () => {
    stopTrace();
    assert.equal(routeTraceChannel.hasSubscribers, false);
    const stop = startRouteTrace(pino({ level: 'info' }));
    assert.equal(routeTraceChannel.hasSubscribers, false);
    stop();
    stopTrace = startRouteTrace(logger);
    assert.equal(routeTraceChannel.hasSubscribers, true);
  });
});
