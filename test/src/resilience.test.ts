/**
 * End-to-end resilience: a standalone data plane (`--config`) with HTTP/3 clients in front of
 * real HTTP/1.1 origins and closed ports (connect failures). Retries land on a second backend,
 * bodies are replayed only when they fit `max_replay_body_bytes`, a breaker opens, keeps its
 * backend free of traffic and recovers through half-open, a scoped rate limit admits its
 * burst plus its rate per key (two bearer tokens), and a global in-flight cap sheds exactly the excess with 503 +
 * Retry-After. Synchronised on responses and origin counts, every wait bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';

const GENEROUS_BUDGET = { retry_budget: { ratio_percent: 100 } };

async function startPlane(dir: string, cert: CertFiles, port: number, config: Record<string, unknown>): Promise<SpawnedProcess> {
  const path = join(dir, `spooky-${port}.json`);
  writeFileSync(path, JSON.stringify({ version: 1, listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } }, ...config }));
  const { proc } = await DataPlane.start({ config: path });
  await proc.waitForLog((l) => l.msg === 'generation applied');
  return proc;
}

describe('resilience end to end (standalone data plane, HTTP/3 clients, HTTP/1.1 origins)', () => {
  let dir: string;
  let cert: CertFiles;
  let port: number;
  let dp: SpawnedProcess;
  let session: Http3ClientSession;
  let o1: Origin;
  let o2: Origin;
  let revived: Origin | null = null;
  let deadPort: number;
  let breakerPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-resilience-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    o1 = await startH1Origin('o1');
    o2 = await startH1Origin('o2');
    deadPort = await freePort();
    breakerPort = await freePort();
    port = await freePort();
    const dead = `http://127.0.0.1:${deadPort}`;
    dp = await startPlane(dir, cert, port, {
      upstream: {
        retry: { route: { path_prefix: '/retry' }, backends: [{ id: 'dead', address: dead }, { id: 'o1', address: o1.url }], resilience: { ...GENEROUS_BUDGET, circuit_breaker: { enabled: false } } },
        replay: { route: { path_prefix: '/replay' }, backends: [{ id: 'dead', address: dead }, { id: 'o2', address: o2.url }], resilience: { ...GENEROUS_BUDGET, circuit_breaker: { enabled: false } } },
        noreplay: {
          route: { path_prefix: '/noreplay' },
          backends: [{ id: 'dead', address: dead }, { id: 'o2', address: o2.url }],
          resilience: { ...GENEROUS_BUDGET, circuit_breaker: { enabled: false }, retries: { max_replay_body_bytes: 1024 } },
        },
        breaker: {
          route: { path_prefix: '/breaker' },
          backends: [{ id: 'b', address: `http://127.0.0.1:${breakerPort}` }],
          // 2 < passive health's 3 consecutive failures: the breaker, not ejection, keeps it out.
          resilience: { circuit_breaker: { failure_threshold: 2, open_ms: 1500, half_open_max_probes: 1 } },
        },
        limited: { route: { path_prefix: '/limited' }, backends: [{ id: 'o1', address: o1.url }] },
      },
      // The global window must allow these retries too (it is checked with the per-upstream one).
      resilience: { ...GENEROUS_BUDGET, scoped_rate_limits: [{ name: 'limited10', scope: 'token', requests_per_sec: 10, burst: 20, route_allowlist: ['limited'] }] },
    });
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => {});
    await dp?.stop();
    for (const o of [o1, o2, revived]) await o?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a GET that fails to connect is retried on the second backend: the client sees 200', async () => {
    const before = o1.requests.length;
    for (let i = 0; i < 4; i++) {
      const res = await h3Request(session, port, { path: '/retry/x', timeoutMs: 5000 });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-origin'], 'o1');
    }
    assert.equal(o1.requests.length - before, 4);
  });

  test('a POST with a 10 KiB body is retried only when replay is configured and the body fits', async () => {
    const body = Buffer.alloc(10 * 1024, 0x61);
    const headers = { 'content-length': String(body.byteLength), 'content-type': 'application/octet-stream' };
    for (let i = 0; i < 2; i++) {
      const res = await h3Request(session, port, { method: 'POST', path: '/replay/p', body, headers, timeoutMs: 5000 });
      assert.equal(res.status, 200, 'replayed onto o2');
      assert.equal(res.body.byteLength, body.byteLength, 'o2 echoed the whole body');
    }
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await h3Request(session, port, { method: 'POST', path: '/noreplay/p', body, headers, timeoutMs: 5000 });
      statuses.push(res.status);
      if (res.status !== 200) assert.equal(res.headers['spooky-reason'], 'upstream_connect_failed');
    }
    assert.deepEqual(statuses.sort(), [200, 502], 'the one that met the dead backend first was not retried');
  });

  test('a breaker opens after 2 failures, keeps its backend free while open, recovers through half-open', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await h3Request(session, port, { path: '/breaker/x', timeoutMs: 5000 })).status, 502);
    const open = await h3Request(session, port, { path: '/breaker/x', timeoutMs: 5000 });
    assert.equal(open.status, 503);
    assert.equal(open.headers['spooky-reason'], 'circuit_open');
    assert.ok(Number(open.headers['retry-after']) >= 1);
    // The backend comes back while the breaker is open: it must see no request until open_ms passed.
    revived = await startH1Origin('revived', breakerPort);
    const openedAt = Date.now();
    const seen: number[] = [];
    const deadline = Date.now() + 10_000;
    for (;;) {
      assert.ok(Date.now() < deadline, 'the breaker half-opened within 10 s');
      const res = await h3Request(session, port, { path: '/breaker/x', timeoutMs: 5000 });
      seen.push(res.status);
      if (res.status === 200) break;
      assert.equal(res.status, 503);
      assert.equal(revived.requests.length, 0, 'no request reached the backend while open');
      // Paced polling (not synchronisation): the breaker is time-driven.
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(Date.now() - openedAt < 1500 + 5000);
    assert.equal(revived.requests.length, 1, 'the half-open probe was the first request it saw');
    for (let i = 0; i < 3; i++) assert.equal((await h3Request(session, port, { path: '/breaker/x', timeoutMs: 5000 })).status, 200, 'closed again');
  });

  test('a 10 req/s burst-20 limit admits 20 + 10/s (±1) per key over 5 s, two keys independently', async (t) => {
    const RUN_MS = 5000;
    const PACE_MS = 5; // load pacing, not synchronisation: a key is still asked ~200 times a second
    // Two bearer tokens = two buckets of the token-scoped rule. Each key's first and last
    // requests are timed at send and at answer: the data plane took their tokens in between.
    const keys = ['tenant-a', 'tenant-b'].map((token) => ({ token, admitted: 0, limited: 0, first: [0, 0], last: [0, 0] }));
    const started = performance.now();
    const loops = keys.flatMap((key) =>
      Array.from({ length: 2 }, async () => {
        while (performance.now() - started < RUN_MS) {
          const sentAt = performance.now();
          const res = await h3Request(session, port, { path: '/limited/x', headers: { authorization: `Bearer ${key.token}` }, timeoutMs: 5000 });
          const answeredAt = performance.now();
          if (key.first[0] === 0) key.first = [sentAt, answeredAt];
          if (sentAt > (key.last[0] as number)) key.last = [sentAt, answeredAt];
          if (res.status === 200) key.admitted++;
          else {
            assert.equal(res.status, 429);
            assert.equal(res.headers['spooky-reason'], 'rate_limited');
            assert.ok(Number(res.headers['retry-after']) >= 1);
            key.limited++;
          }
          await new Promise((r) => setTimeout(r, PACE_MS));
        }
      }),
    );
    await Promise.all(loops);
    for (const key of keys) {
      // The bucket starts full (20) at the key's first request and refills at 10/s until its
      // last one; both instants are known to within their request's round trip.
      const [firstSent, firstAnswered] = key.first as [number, number];
      const [lastSent, lastAnswered] = key.last as [number, number];
      const low = 20 + (10 * (lastSent - firstAnswered)) / 1000;
      const high = 20 + (10 * (lastAnswered - firstSent)) / 1000;
      t.diagnostic(`${key.token}: admitted ${key.admitted}, limited ${key.limited}; 20 + 10/s over the key's span = ${low.toFixed(2)}…${high.toFixed(2)}`);
      assert.ok(key.limited > 0, `${key.token}: the limit was reached`);
      assert.ok(high - low < 1, `${key.token}: the span is known to within ${(high - low).toFixed(2)} tokens`);
      assert.ok(key.admitted >= low - 1 && key.admitted <= high + 1, `${key.token}: admitted ${key.admitted}, expected ${low.toFixed(2)}…${high.toFixed(2)} ± 1`);
    }
  });
});

describe('global in-flight cap end to end', () => {
  const C = 4;
  let dir: string;
  let dp: SpawnedProcess;
  let session: Http3ClientSession;
  let port: number;
  const held: ServerResponse[] = [];
  let reachedC: () => void = () => undefined;
  const slow = createServer((_req, res) => {
    held.push(res);
    if (held.length === C) reachedC();
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-inflight-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    port = await freePort();
    dp = await startPlane(dir, cert, port, {
      upstream: { slow: { route: { path_prefix: '/' }, backends: [{ id: 'slow', address: slowUrl }] } },
      performance: { global_inflight_limit: C },
    });
    session = await connectH3(port);
  });

  after(async () => {
    for (const res of held) res.destroy();
    await session?.close().catch(() => {});
    await dp?.stop();
    slow.closeAllConnections();
    await new Promise<void>((resolve) => slow.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('4C concurrent slow requests: exactly the excess gets 503 inflight_global + Retry-After', async () => {
    const arrived = new Promise<void>((resolve) => {
      reachedC = resolve;
    });
    const shed: Array<Record<string, string | string[]>> = [];
    const all = Array.from({ length: 4 * C }, async () => {
      const res = await h3Request(session, port, { path: '/slow', timeoutMs: 10_000 });
      if (res.status === 503) shed.push(res.headers);
      return res.status;
    });
    // The C admitted ones are held at the origin; the others are answered at once.
    await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('origin never held C requests')), 10_000))]);
    const shedDeadline = Date.now() + 10_000;
    while (shed.length < 3 * C && Date.now() < shedDeadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(shed.length, 3 * C, 'the excess was shed while C were in flight');
    for (const res of held) res.end('done');
    const statuses = await Promise.all(all);
    assert.equal(statuses.filter((s) => s === 200).length, C);
    assert.equal(statuses.filter((s) => s === 503).length, 3 * C);
    for (const h of shed) {
      assert.equal(h['spooky-reason'], 'inflight_global');
      assert.ok(Number(h['retry-after']) >= 1);
    }
  });
});
