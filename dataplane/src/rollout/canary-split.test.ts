/**
 * The in-node canary through the real request handler: two compiled generations (N routes to a
 * real origin, the candidate N+1 to a dead backend), memory exchanges with distinct client
 * addresses (the ingress is the only fake), the real per-generation windows and the real
 * monitor with a fake CanaryFallback.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Config, parseConfig } from '@spooky/config';
import pino from 'pino';
import { compileGeneration } from '../compile/compile-generation.ts';
import { createMemoryExchange } from '../http/memory-exchange.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { createRequestHandler } from '../pipeline/request-handler.ts';
import type { Generation } from '../runtime/generation.ts';
import { GenerationStore } from '../runtime/generation-store.ts';
import { LongLivedState } from '../runtime/long-lived-state.ts';
import { closedTcpPort } from '../testing/free-port.ts';
import { CanaryMonitor } from './canary-monitor.ts';
import { wireCanaryInWorker } from './canary-wiring.ts';
import type { CanaryFallback } from './candidate-ports.ts';
import type { HealthFeedMessage } from './health-feed.ts';
import type { CanaryThresholds, RegressionFinding } from './in-node-canary.ts';

const N_DIGEST = `sha256:${'1'.repeat(64)}`;
const C_DIGEST = `sha256:${'2'.repeat(64)}`;
const T: CanaryThresholds = { minRequests: 100, maxErrorRatio: 0.02, maxErrorIncrease: 0.005, maxP99Factor: 1.5, minP99IncreaseMs: 20 };
/** 5 000 distinct client addresses, IPv4 and IPv6 mixed. */
const CLIENTS = Array.from({ length: 5_000 }, (_, i) => (i % 2 === 0 ? `203.0.${(i >> 8) & 255}.${i & 255}` : `2001:db8:7::${i.toString(16)}`));

function configTo(address: string): Config {
  const parsed = parseConfig({
    version: 1,
    listen: { protocol: 'http3', address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'app-a', address }] } },
    performance: { upstream_connect_timeout_ms: 400, upstream_headers_timeout_ms: 2000, request_timeout_ms: 5000 },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

describe('in-node canary: the split and its measurements through the request handler', () => {
  let origin: Server;
  const state = new LongLivedState();
  const store = new GenerationStore();
  let serving: Generation;
  let candidate: Generation;
  const sent: HealthFeedMessage[] = [];
  const canary = wireCanaryInWorker(store, (m) => sent.push(m));
  /** The generation each client address pinned (outcomes finish in any order). */
  let pinned = new Map<string, Generation>();
  const handle = createRequestHandler({
    store,
    state,
    logger: pino({ level: 'silent' }),
    outcome: (ctx: RequestContext) => {
      pinned.set(ctx.exchange.remoteAddress ?? '', ctx.generation);
      canary.outcome(ctx);
    },
  });

  before(async () => {
    // The origin answers 200, and 503 on /busy (an upstream 5xx the proxy relays).
    origin = createServer((req, res) => {
      res.writeHead(req.url === '/busy' ? 503 : 200, { 'content-type': 'text/plain' });
      res.end('origin');
    });
    origin.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    const n = compileGeneration(configTo(`http://127.0.0.1:${port}`), { scope: 'test', seq: 1, digest: N_DIGEST }, state);
    const c = compileGeneration(configTo(`http://127.0.0.1:${await closedTcpPort()}`), { scope: 'test', seq: 2, digest: C_DIGEST }, state);
    assert.ok(n.ok && c.ok);
    serving = n.generation;
    candidate = c.generation;
    store.swap(serving);
  });
  after(async () => {
    canary.stop();
    await state.close();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });

  /** Runs one request per address (50 at a time); returns the generation each pinned, in address order. */
  async function runAll(addresses: readonly string[], path: (i: number) => string = () => '/'): Promise<Generation[]> {
    pinned = new Map();
    for (let i = 0; i < addresses.length; i += 50) {
      const batch = addresses.slice(i, i + 50).map(async (remoteAddress, j) => {
        const ex = createMemoryExchange({ path: path(i + j), authority: 'app.test', remoteAddress });
        await handle(ex);
        await ex.response.finished;
        return ex;
      });
      await Promise.all(batch);
    }
    assert.equal(pinned.size, addresses.length, 'one outcome per request');
    return addresses.map((a) => pinned.get(a) as Generation);
  }

  test('with no candidate every request pins the serving generation', async () => {
    const got = await runAll(CLIENTS.slice(0, 500));
    assert.ok(got.every((g) => g === serving));
  });

  test('holding a candidate at 5 %: ≈ 5 % (± 1 %) of 5 000 client addresses pin it, each address always the same side, and it is measured', async () => {
    store.hold(candidate, { candidateDigest: C_DIGEST, percent: 5, thresholds: T });
    canary.flush(); // the feed sees the candidate held from here on
    sent.length = 0;
    // Every 20th request asks /busy: the serving side relays an upstream 503 for those.
    const first = await runAll(CLIENTS, (i) => (i % 20 === 0 ? '/busy' : '/'));
    const toCandidate = first.filter((g) => g === candidate).length;
    const share = toCandidate / CLIENTS.length;
    assert.ok(Math.abs(share - 0.05) <= 0.01, `candidate share ${share}`);
    assert.ok(first.every((g) => g === candidate || g === serving));

    const again = await runAll(CLIENTS);
    for (let i = 0; i < CLIENTS.length; i++) assert.equal(again[i], first[i], `client ${CLIENTS[i]} changed sides`);

    // The windows of both runs: the candidate's requests are all local 5xx (dead backend), the
    // serving generation's 5xx are the relayed 503s of /busy.
    canary.flush();
    const windows = sent.flatMap((m) => m.windows);
    const sum = (digest: string, f: 'requests' | 'local5xx' | 'upstream5xx') =>
      windows.filter((w) => w.generation?.digest === digest).reduce((a, w) => a + w[f], 0);
    assert.equal(sum(C_DIGEST, 'requests'), 2 * toCandidate);
    assert.equal(sum(C_DIGEST, 'local5xx'), 2 * toCandidate);
    assert.equal(sum(C_DIGEST, 'upstream5xx'), 0);
    const servingBusy = first.filter((g, i) => g === serving && i % 20 === 0).length;
    assert.equal(sum(N_DIGEST, 'requests'), 2 * CLIENTS.length - 2 * toCandidate);
    assert.equal(sum(N_DIGEST, 'upstream5xx'), servingBusy);
    assert.equal(sum(N_DIGEST, 'local5xx'), 0);
    for (const w of windows) {
      assert.equal(
        w.latencyBucketCounts.reduce((a, b) => a + b, 0),
        w.requests,
        'one latency count per request',
      );
    }
    assert.ok(sent.every((m) => m.held?.candidateDigest === C_DIGEST && m.held.servingDigest === N_DIGEST));

    // The node's monitor over that feed falls back, once, with the numbers.
    const calls: { digest: string; findings: readonly RegressionFinding[] }[] = [];
    const fake: CanaryFallback = { fallBack: (digest, findings) => calls.push({ digest, findings }) };
    const monitor = new CanaryMonitor({ logger: pino({ level: 'silent' }), fallback: () => fake, timer: () => ({ cancel: () => undefined }) });
    for (const m of sent) monitor.observe('local', m);
    assert.equal(monitor.check()?.kind, 'fall-back');
    assert.equal(monitor.check(), null);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.digest, C_DIGEST);
    const ratio = calls[0]?.findings.find((f) => f.rule === 'error_ratio');
    assert.equal(ratio?.observed, 1);
  });

  test('after the candidate is dropped every request pins the serving generation again', async () => {
    store.dropCandidate();
    const got = await runAll(CLIENTS.slice(0, 500));
    assert.ok(got.every((g) => g === serving));
  });
});
