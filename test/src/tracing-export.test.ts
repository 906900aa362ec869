/**
 * End-to-end: OpenTelemetry span export from a real data plane (standalone, config file) to a
 * real OTLP/HTTP receiver (test/src/harness/otlp-receiver.ts), with a real HTTP/3 client and
 * HTTP/1.1 origins that record the traceparent they receive:
 *  - one SERVER span per request and one CLIENT span per try, same trace id; the try's span
 *    id is the parent-id in the origin's traceparent;
 *  - an inbound sampled traceparent is continued (same trace id, parent = the client's span);
 *    an inbound unsampled one is not exported, and what goes upstream keeps the flag cleared;
 *  - a retried request: two CLIENT spans (primary → 503, retry → 200), the origin that
 *    answered saw the retry's span as its parent.
 * The receiver being down (connection refused) or hanging (accepts, never answers) does not
 * fail or slow requests, and the failure is logged (rate-limited).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { eventually } from './harness/eventually.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { OtlpReceiver, type ReceivedSpan, SPAN_KIND } from './harness/otlp-receiver.ts';

const INBOUND_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INBOUND_PARENT = '00f067aa0ba902b7';

/** The parts of a traceparent header. */
function parts(traceparent: string | undefined): { traceId: string; parentId: string; flags: string } {
  assert.ok(traceparent !== undefined && /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(traceparent), `traceparent ${traceparent}`);
  return { traceId: traceparent.slice(3, 35), parentId: traceparent.slice(36, 52), flags: traceparent.slice(53, 55) };
}

function config(port: number, cert: CertFiles, good: Origin, bad: string, endpoint: string): unknown {
  return {
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    observability: { tracing: { enabled: true, otlp_endpoint: endpoint, service_name: 'edge-test' } },
    upstream: {
      plain: { route: { path_prefix: '/plain' }, backends: [{ id: 'good', address: good.url }] },
      retried: {
        route: { path_prefix: '/retried' },
        load_balancing: { type: 'round-robin' },
        backends: [
          { id: 'bad', address: bad },
          { id: 'good', address: good.url },
        ],
        resilience: { circuit_breaker: { enabled: false }, retry_budget: { enabled: false }, retries: { retry_on: [503], max_attempts: 2, backoff_base_ms: 1, backoff_max_ms: 2 } },
      },
    },
  };
}

describe('OTLP span export from a real data plane', () => {
  let dir: string;
  let cert: CertFiles;
  let receiver: OtlpReceiver;
  let good: Origin;
  let bad: ReturnType<typeof createHttpServer>;
  let badUrl: string;
  let dp: DataPlane;
  let port: number;
  let session: Http3ClientSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-otel-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    receiver = await OtlpReceiver.start();
    good = await startH1Origin('good');
    bad = createHttpServer((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    badUrl = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`;
    port = await freePort();
    const path = join(dir, 'spooky.json');
    // A bare origin: the data plane posts to /v1/traces (normalize-observability.ts).
    writeFileSync(path, JSON.stringify(config(port, cert, good, badUrl, receiver.url)));
    dp = await DataPlane.start({ config: path });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 60_000);
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => undefined);
    await dp?.proc.stop();
    await good?.close();
    await new Promise((resolve) => bad?.close(resolve));
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** GET `path` over HTTP/3; the traceparent the good origin saw and the request id. */
  async function get(path: string, headers: Record<string, string> = {}) {
    const before = good.requests.length;
    const reply = await h3Request(session, port, { path, headers, timeoutMs: 30_000 });
    assert.equal(reply.status, 200, `${path}: ${reply.status} ${reply.body.toString('utf8')}`);
    const seen = good.requests.slice(before).find((r) => r.path === path);
    assert.ok(seen, `the origin saw ${path}`);
    return { traceparent: seen.headers['traceparent'] as string | undefined, requestId: String(reply.headers['x-request-id']) };
  }

  function requestSpanOf(spans: readonly ReceivedSpan[], requestId: string): ReceivedSpan | undefined {
    return spans.find((s) => s.kind === SPAN_KIND.server && s.attributes['spooky.request_id'] === requestId);
  }

  test('a new trace: the request span and the attempt span, the attempt span id is the origin\'s parent-id', async () => {
    const { traceparent, requestId } = await get('/plain/a');
    const sent = parts(traceparent);
    assert.equal(sent.flags, '01', 'sample_ratio 1: recorded and sampled');
    const server = await receiver.waitFor('the request span', (spans) => requestSpanOf(spans, requestId));
    const attempt = await receiver.waitFor('the attempt span', (spans) => spans.find((s) => s.kind === SPAN_KIND.client && s.parentSpanId === server.spanId));
    assert.equal(server.traceId, sent.traceId, 'the origin is in the same trace');
    assert.equal(attempt.traceId, sent.traceId);
    assert.equal(attempt.spanId, sent.parentId, "the attempt's span is the origin's parent");
    assert.equal(server.parentSpanId, '', 'a root span: the client sent no traceparent');
    assert.equal(server.service, 'edge-test');
    assert.equal(server.scope, 'spooky-dataplane');
    assert.equal(server.name, 'GET plain');
    assert.deepEqual(
      {
        method: server.attributes['http.request.method'],
        status: server.attributes['http.response.status_code'],
        outcome: server.attributes['spooky.outcome'],
        upstream: server.attributes['spooky.upstream'],
        seq: server.attributes['spooky.generation_seq'],
        protocol: server.attributes['network.protocol.version'],
        attempts: server.attributes['spooky.attempts'],
      },
      { method: 'GET', status: 200, outcome: 'ok', upstream: 'plain', seq: 0, protocol: '3', attempts: 1 },
    );
    assert.deepEqual(
      {
        backend: attempt.attributes['spooky.backend'],
        index: attempt.attributes['spooky.attempt.index'],
        role: attempt.attributes['spooky.attempt.role'],
        result: attempt.attributes['spooky.attempt.result'],
        status: attempt.attributes['http.response.status_code'],
        address: attempt.attributes['server.address'],
      },
      { backend: 'good', index: 0, role: 'primary', result: '200', status: 200, address: good.url },
    );
    assert.ok(attempt.startNs >= server.startNs && attempt.endNs <= server.endNs, 'the attempt lies within the request');
    const log = await dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === requestId);
    assert.equal(log['traceId'], sent.traceId, 'the access log names the exported trace');
  });

  test('an inbound sampled traceparent is continued: same trace, the client span is the parent', async () => {
    const { traceparent, requestId } = await get('/plain/b', { traceparent: `00-${INBOUND_TRACE}-${INBOUND_PARENT}-01`, tracestate: 'vendor=1' });
    const sent = parts(traceparent);
    assert.equal(sent.traceId, INBOUND_TRACE);
    assert.notEqual(sent.parentId, INBOUND_PARENT, 'the origin sees our attempt as its parent, not the client');
    const server = await receiver.waitFor('the request span', (spans) => requestSpanOf(spans, requestId));
    assert.equal(server.traceId, INBOUND_TRACE);
    assert.equal(server.parentSpanId, INBOUND_PARENT);
    const attempt = await receiver.waitFor('the attempt span', (spans) => spans.find((s) => s.spanId === sent.parentId));
    assert.equal(attempt.parentSpanId, server.spanId);
    assert.equal(good.requests.at(-1)?.headers['tracestate'], 'vendor=1', 'tracestate passes on');
  });

  test('an inbound unsampled traceparent: nothing exported, the flag stays cleared upstream', async () => {
    const unsampledTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const { traceparent, requestId } = await get('/plain/c', { traceparent: `00-${unsampledTrace}-${INBOUND_PARENT}-00` });
    const sent = parts(traceparent);
    assert.equal(sent.traceId, unsampledTrace);
    assert.equal(sent.flags, '00');
    // A sampled request sent after it is exported; by then the unsampled one would have been too.
    const marker = await get('/plain/d');
    await receiver.waitFor('the next request span', (spans) => requestSpanOf(spans, marker.requestId));
    assert.equal(receiver.trace(unsampledTrace).length, 0);
    assert.equal(requestSpanOf(receiver.spans, requestId), undefined);
  });

  test('a retried request: a primary span (503) and a retry span (200); the retry is the origin\'s parent', async () => {
    // Round robin over [bad, good]: one of two consecutive requests starts on bad and is retried.
    const first = await get('/retried/1');
    const second = await get('/retried/2');
    const retried = await receiver.waitFor('a request with two attempts', (spans) => {
      for (const r of [first, second]) {
        const server = requestSpanOf(spans, r.requestId);
        if (server?.attributes['spooky.attempts'] === 2) return { server, r };
      }
      return undefined;
    });
    const attempts = await receiver.waitFor('both attempt spans', (spans) => {
      const found = spans.filter((s) => s.parentSpanId === retried.server.spanId).sort((a, b) => Number(a.attributes['spooky.attempt.index']) - Number(b.attributes['spooky.attempt.index']));
      return found.length === 2 ? found : undefined;
    });
    const [primary, retry] = attempts as [ReceivedSpan, ReceivedSpan];
    assert.deepEqual([primary.attributes['spooky.backend'], primary.attributes['spooky.attempt.role'], primary.attributes['spooky.attempt.result'], primary.status], ['bad', 'primary', '503', 2]);
    assert.deepEqual([retry.attributes['spooky.backend'], retry.attributes['spooky.attempt.role'], retry.attributes['spooky.attempt.result'], retry.attributes['http.request.resend_count']], ['good', 'retry', '200', 1]);
    assert.equal(parts(retried.r.traceparent).parentId, retry.spanId);
  });

  test('SIGTERM: the spans still queued are exported before the worker exits', async () => {
    // Sent right before the stop: its spans are still in the batch queue (1 s delay) when the drain starts.
    const { requestId } = await get('/plain/last');
    await session.close().catch(() => undefined);
    const code = await dp.proc.stop();
    assert.equal(code, 0);
    const server = requestSpanOf(receiver.spans, requestId);
    assert.ok(server, 'the last request span arrived before the process exited');
    assert.ok(receiver.spans.some((s) => s.parentSpanId === server.spanId), 'and its attempt span');
  });
});

describe('a collector that is down or hangs never fails requests', () => {
  let dir: string;
  let cert: CertFiles;
  let good: Origin;
  let hang: NetServer;
  const held: Socket[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-otel-down-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    good = await startH1Origin('good');
    // Accepts connections and never answers (a collector stuck behind a full queue).
    hang = createNetServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    for (const s of held) s.destroy();
    await new Promise((resolve) => hang?.close(resolve));
    await good?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['refused', 'hanging'] as const) {
    test(`collector ${kind}: every request answers 200 and the failure is logged`, async () => {
      const port = await freePort();
      const endpoint = kind === 'refused' ? `http://127.0.0.1:${await freePort()}/v1/traces` : `http://127.0.0.1:${(hang.address() as AddressInfo).port}/v1/traces`;
      const path = join(dir, `${kind}.json`);
      writeFileSync(path, JSON.stringify(config(port, cert, good, `http://127.0.0.1:${await freePort()}`, endpoint)));
      const dp = await DataPlane.start({ config: path });
      let session: Http3ClientSession | undefined;
      try {
        await dp.proc.waitForLog((l) => l.msg === 'generation applied', 60_000);
        session = await connectH3(port);
        const open = session;
        const send = async (i: number) => assert.equal((await h3Request(open, port, { path: `/plain/${i}`, timeoutMs: 10_000 })).status, 200);
        // First a request whose span is exported, then wait until that export failed (refused)
        // or is stuck in flight (hanging: the collector holds the connection).
        await send(0);
        if (kind === 'refused') {
          const line = await dp.proc.waitForLog((l) => l.msg === 'tracing: span export failed', 20_000);
          assert.equal(line['endpoint'], new URL(endpoint).origin);
          assert.ok(Number(line['droppedSpans']) > 0);
        } else {
          await eventually('the exporter connected to the hanging collector', () => (held.length > 0 ? true : undefined));
        }
        const started = performance.now();
        for (let i = 1; i <= 40; i++) await send(i);
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 8_000, `40 requests took ${elapsed.toFixed(0)} ms with the collector ${kind}`);
      } finally {
        await session?.close().catch(() => undefined);
        await dp.proc.stop();
      }
    });
  }
});
