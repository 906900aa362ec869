/**
 * The attempt loop with real undici transports against real local origins (node:http on port
 * 0, a closed port for connect failures): retries land on another backend, bodies are replayed
 * only within max_replay_body_bytes, breakers open, caps and rate limits shed.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { closedTcpPort } from '../testing/free-port.ts';
import { memoryPipeline } from '../testing/memory-pipeline.ts';

interface Origin {
  readonly address: string;
  /** Requests seen, with the body length each carried. */
  readonly seen: number[];
  close(): Promise<void>;
}

async function origin(answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<Origin> {
  const seen: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push(body.byteLength);
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ok = (_req: IncomingMessage, res: ServerResponse): void => {
  res.end('ok');
};

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function proxy(backends: readonly string[], extra: Record<string, unknown> = {}) {
  return memoryPipeline(
    {
      version: 1,
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
      upstream: { app: { route: { path_prefix: '/' }, backends: backends.map((address, i) => ({ id: `b${i}`, address })) } },
      performance: { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 2000, request_timeout_ms: 5000 },
      ...extra,
    },
    cleanups,
  );
}

/** The default budget (10 %) allows one retry per 10 s at this traffic; these tests retry more. */
const GENEROUS_BUDGET = { resilience: { retry_budget: { ratio_percent: 100 } } };

describe('attempt loop', () => {
  it('a GET that fails to connect is retried on the other backend: 200, two attempts', async () => {
    const live = await origin(ok);
    cleanups.push(() => live.close());
    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const p = await proxy([dead, live.address], GENEROUS_BUDGET);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await p.send());
    for (const r of results) assert.equal(r.status, 200);
    assert.ok(results.some((r) => r.event.attempts === 2), 'some request went to the dead backend first');
    assert.equal(live.seen.length, 4);
  });

  it('a 503 from one backend is retried on the other; a retried response is not relayed', async () => {
    const busy = await origin((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    const live = await origin(ok);
    cleanups.push(() => busy.close(), () => live.close());
    const p = await proxy([busy.address, live.address], GENEROUS_BUDGET);
    for (let i = 0; i < 4; i++) assert.equal((await p.send()).status, 200);
    assert.ok(busy.seen.length >= 1);
  });

  it('a POST with a 10 KiB body is replayed when it fits max_replay_body_bytes', async () => {
    const live = await origin(ok);
    cleanups.push(() => live.close());
    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const p = await proxy([dead, live.address], GENEROUS_BUDGET);
    const body = Buffer.alloc(10 * 1024, 7);
    const results = [];
    for (let i = 0; i < 2; i++) results.push(await p.send({ method: 'POST', body }));
    for (const r of results) assert.equal(r.status, 200);
    assert.deepEqual(live.seen, [10 * 1024, 10 * 1024]);
  });

  it('a POST body over max_replay_body_bytes is not retried (body_not_replayable)', async () => {
    const live = await origin(ok);
    cleanups.push(() => live.close());
    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const p = await proxy([dead, live.address], { resilience: { retry_budget: { ratio_percent: 100 }, retries: { max_replay_body_bytes: 1024 } } });
    const body = Buffer.alloc(10 * 1024, 7);
    const results = [];
    for (let i = 0; i < 2; i++) results.push(await p.send({ method: 'POST', body }));
    const failed = results.filter((r) => r.status !== 200);
    assert.equal(failed.length, 1, 'the one sent to the dead backend fails');
    assert.equal(failed[0]?.status, 502);
    assert.equal(failed[0]?.event.retryRefusal, 'body_not_replayable');
  });

  it('the retry budget refuses retries beyond floor(primaries × ratio) + 1 (reason budget)', async () => {
    const live = await origin(ok);
    cleanups.push(() => live.close());
    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const p = await proxy([dead, live.address], { resilience: { circuit_breaker: { enabled: false } } });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await p.send());
    const refused = results.filter((r) => r.status === 502);
    assert.equal(results.filter((r) => r.event.attempts === 2).length, 1, 'one retry in the window (10 % of 6 primaries, + 1)');
    assert.ok(refused.length >= 1);
    for (const r of refused) assert.equal(r.event.retryRefusal, 'budget');
  });

  it('a breaker opens after failure_threshold failures: 503 circuit_open + Retry-After, no attempt', async () => {
    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const p = await proxy([dead], { resilience: { circuit_breaker: { failure_threshold: 2, open_ms: 60_000 } } });
    assert.equal((await p.send()).status, 502);
    assert.equal((await p.send()).status, 502);
    const shed = await p.send();
    assert.equal(shed.status, 503);
    assert.equal(shed.reason, 'circuit_open');
    assert.equal(shed.event.attempts, 0);
    assert.ok(shed.headers.some(([n]) => n === 'retry-after'));
  });

  it('a global in-flight cap C with 4C concurrent slow requests sheds exactly the excess', async () => {
    const held: ServerResponse[] = [];
    let arrived: () => void = () => undefined;
    const allArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const slow = await origin((_req, res) => {
      held.push(res);
      if (held.length === 2) arrived();
    });
    cleanups.push(() => slow.close());
    const p = await proxy([slow.address], { performance: { global_inflight_limit: 2, request_timeout_ms: 5000, upstream_headers_timeout_ms: 4000 } });
    const all = Array.from({ length: 8 }, () => p.send());
    await allArrived;
    for (const res of held) res.end('late');
    const results = await Promise.all(all);
    assert.equal(results.filter((r) => r.status === 200).length, 2);
    const shed = results.filter((r) => r.status === 503);
    assert.equal(shed.length, 6);
    for (const r of shed) {
      assert.equal(r.reason, 'inflight_global');
      assert.ok(r.headers.some(([n, v]) => n === 'retry-after' && Number(v) >= 1));
    }
    assert.equal(p.state.inflight.global.active, 0, 'every permit returned');
  });

  it('a full per-backend cap queues requests (bounded, FIFO on release) instead of shedding; a full queue sheds queue_full', async () => {
    let concurrent = 0;
    let peak = 0;
    const slow = await origin((_req, res) => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      setImmediate(() => {
        concurrent--;
        res.end('ok');
      });
    });
    cleanups.push(() => slow.close());
    const p = await proxy([slow.address], { performance: { per_backend_inflight_limit: 1 }, resilience: { route_queue: { default_cap: 2 } } });
    const results = await Promise.all(Array.from({ length: 4 }, () => p.send()));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 503], '1 in flight + 2 queued; the 4th finds the queue full');
    assert.equal(results.find((r) => r.status === 503)?.reason, 'queue_full');
    assert.equal(peak, 1, 'the backend never saw more than its cap');
    assert.equal(p.state.routeQueue.length(), 0);
  });

  it('route_queue.max_wait_ms on the backend lane: a request waiting for a backend permit is shed with 503 queue_timeout', async () => {
    const releases: Array<() => void> = [];
    const stuck = await origin((_req, res) => {
      releases.push(() => res.end('late'));
    });
    cleanups.push(() => {
      for (const release of releases.splice(0)) release();
      return stuck.close();
    });
    const p = await proxy([stuck.address], { performance: { per_backend_inflight_limit: 1 }, resilience: { route_queue: { max_wait_ms: 100 } } });
    const first = p.send();
    for (let spins = 0; releases.length === 0; spins++) {
      assert.ok(spins < 10_000, 'the first request reached the origin');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const second = await p.send();
    assert.deepEqual([second.status, second.reason], [503, 'queue_timeout']);
    assert.equal(p.state.routeQueue.length(), 0, 'out of the queue');
    for (const release of releases.splice(0)) release();
    assert.equal((await first).status, 200);
  });

  it('a 10 req/s burst-20 rate limit admits the burst, then 429 + Retry-After; shadow only counts', async () => {
    const live = await origin(ok);
    cleanups.push(() => live.close());
    const rule = { name: 'r', scope: 'route', requests_per_sec: 10, burst: 20 };
    const p = await proxy([live.address], { resilience: { scoped_rate_limits: [rule] } });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await p.send()).status);
    assert.deepEqual(new Set(statuses), new Set([200]), 'the burst is admitted');
    // A token refills every 100 ms: within a few more requests one is refused.
    let last = await p.send();
    for (let i = 0; i < 5 && last.status === 200; i++) last = await p.send();
    assert.equal(last.status, 429);
    assert.equal(last.reason, 'rate_limited');
    assert.equal(last.event.rateLimitRule, 'r');
    assert.ok(last.headers.some(([n, v]) => n === 'retry-after' && Number(v) >= 1));
    const shadow = await proxy([live.address], { resilience: { scoped_rate_limits: [{ ...rule, name: 's', burst: 1, requests_per_sec: 1, shadow: true }] } });
    for (let i = 0; i < 3; i++) assert.equal((await shadow.send()).status, 200);
    assert.equal((await shadow.send()).event.rateLimitMode, 'shadow');
  });
});
