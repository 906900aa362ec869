/**
 * End-to-end overload behaviour of issue 9 not shown by resilience.test.ts:
 *  - a 50 % failure storm: 2 000 GETs through a standalone data plane to two origins that
 *    answer 503 to every other request they see (`retry_on` includes 503, retry budget 20 %);
 *    the upstream attempts counted AT THE ORIGINS stay within the budget formula;
 *  - a global in-flight cap C: with C slow requests held at the origin, a sustained stream of
 *    excess requests is shed with 503 inflight_global + Retry-After, every one of them, and
 *    the serving process's RSS stays flat (the shed path keeps nothing per request).
 * Synchronised on responses and origin counts; every wait bounded; run time ~10 s.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { RssProbe } from './harness/process-rss.ts';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function startPlane(dir: string, cert: CertFiles, config: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<{ dp: DataPlane; port: number }> {
  const port = await freePort();
  const path = join(dir, `spooky-${port}.json`);
  writeFileSync(path, JSON.stringify({ version: 1, listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } }, ...config }));
  const dp = await DataPlane.start({ config: path, ...(env === undefined ? {} : { env }) });
  await dp.proc.waitForLog((l) => l.msg === 'generation applied');
  return { dp, port };
}

/** Sum of a Prometheus counter's samples whose labels include `labels` (e.g. `reason="budget"`). */
function counter(text: string, name: string, labels: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

describe('a 50 % failure storm stays within the retry budget (counted at the origins)', () => {
  const REQUESTS = 2000;
  const CONCURRENCY = 32;
  const RATIO = 20;
  /** Bound on the storm's duration (the machine is shared; it takes ~3–7 s). */
  const STORM_MAX_MS = 20_000;
  let dir: string;
  let dp: DataPlane;
  let port: number;
  const origins: Array<{ server: Server; url: string; seen: number }> = [];
  const sessions: Http3ClientSession[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-storm-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    for (let i = 0; i < 2; i++) {
      const o = { server: null as unknown as Server, url: '', seen: 0 };
      const started = await listen((req, res) => {
        // Health probes are not attempts (and the active check turns passive ejection off, so
        // alternating 503s cannot eject a backend mid-storm).
        if (req.url === '/health') return void res.end('ok');
        o.seen++;
        res.writeHead(o.seen % 2 === 1 ? 503 : 200, { 'content-type': 'text/plain' });
        res.end('x');
      });
      o.server = started.server;
      o.url = started.url;
      origins.push(o);
    }
    ({ dp, port } = await startPlane(dir, cert, {
      upstream: {
        storm: {
          route: { path_prefix: '/' },
          backends: origins.map((o, i) => ({ id: `o${i}`, address: o.url, health_check: { path: '/health', interval: 3_600_000 } })),
          resilience: { circuit_breaker: { enabled: false }, retries: { retry_on: [503], max_attempts: 2, backoff_base_ms: 2, backoff_max_ms: 10 } },
        },
      },
      resilience: { retry_budget: { ratio_percent: RATIO } },
    }));
    for (let i = 0; i < 4; i++) sessions.push(await connectH3(port));
  });

  after(async () => {
    for (const s of sessions) await s.close().catch(() => {});
    await dp?.proc.stop();
    for (const o of origins) await closeServer(o.server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`${REQUESTS} GETs, ${CONCURRENCY} at a time: attempts ≤ primaries + floor(primaries × ${RATIO}/100) + windows × concurrency`, async (t) => {
    const statuses = new Map<number, number>();
    let next = 0;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, i) => {
        const session = sessions[i % sessions.length] as Http3ClientSession;
        while (next < REQUESTS) {
          next++;
          const res = await h3Request(session, port, { path: '/storm', timeoutMs: 10_000 });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const elapsedMs = performance.now() - startedAt;
    const attempts = origins.reduce((n, o) => n + o.seen, 0);
    const primaries = REQUESTS;
    const retries = attempts - primaries;
    const allowance = Math.floor((primaries * RATIO) / 100) + 1;
    // The slack, derived (not guessed):
    //  - Within one window: the budget is checked when a retry is decided and recorded when it
    //    is dispatched, after its backoff. Every check that passed saw recorded < floor(P_w ×
    //    ratio/100) + 1; at that moment at most the other CONCURRENCY − 1 requests sit between
    //    their check and their dispatch (one retry each: max_attempts 2). So a window's retries
    //    ≤ floor(P_w × ratio/100) + CONCURRENCY.
    //  - Across windows: the window is ten 1-s buckets (retry-budget.ts), so it always spans
    //    ≥ 9 s. Walking back from the last retry, window by disjoint window, covers the storm's
    //    buckets (≤ ceil(elapsed s) + 1, whatever the data plane's bucket alignment) in
    //    ceil(buckets / 10) windows; their primaries sum to at most P, and Σ floor ≤ floor Σ.
    // So retries ≤ floor(P × ratio/100) + windows × CONCURRENCY (windows = 1 below 9 s).
    const buckets = Math.ceil(elapsedMs / 1000) + 1;
    const windows = Math.ceil(buckets / 10);
    const bound = primaries + Math.floor((primaries * RATIO) / 100) + windows * CONCURRENCY;
    const metrics = await (await fetch(`${dp.admin}/metrics`)).text();
    const refusedByBudget = counter(metrics, 'spooky_retry_denied_total', 'reason="budget"');
    t.diagnostic(
      `${REQUESTS} requests in ${elapsedMs.toFixed(0)} ms: ${attempts} attempts at the origins (${retries} retries); ` +
        `bound ${bound} (${windows} window(s)); statuses ${JSON.stringify(Object.fromEntries(statuses))}; budget refusals ${refusedByBudget}`,
    );
    assert.ok(elapsedMs < STORM_MAX_MS, `the storm took ${elapsedMs.toFixed(0)} ms`);
    assert.equal((statuses.get(200) ?? 0) + (statuses.get(503) ?? 0), REQUESTS, 'every answer is the origins’ 200 or 503');
    assert.ok(attempts <= bound, `${attempts} attempts at the origins > ${bound}`);
    // And the budget is what stopped them: about half the primaries failed, far more than it
    // allows, so it was spent (a sanity check on the setup, not part of the bound).
    assert.ok(refusedByBudget > 0, 'retries were refused by the budget');
    assert.ok(retries >= allowance - CONCURRENCY, `the budget was used: ${retries} retries`);
    assert.equal(statuses.get(503), REQUESTS - (statuses.get(200) ?? 0));
  });
});

describe('global in-flight cap: a sustained excess is shed and RSS stays flat', () => {
  const C = 8;
  const EXCESS_LOOPS = 3 * C;
  const PHASE = 1000;
  const SHED_TOTAL = 8000;
  /**
   * What "flat" allows, from a measurement of this setup (one worker, `--trace-gc`, 40 000
   * sheds): the heap after each mark-compact stayed at 26.7–26.8 MiB (nothing retained per
   * request), while between mark-compacts the old generation filled with promoted garbage up
   * to ~52 MiB before V8 collected it. So RSS may climb by about that headroom (~25 MiB) and
   * no more: the 7 000 sheds after the warm-up leaking 5 KiB each would exceed it.
   */
  const FLAT_MIB = 32;
  /**
   * V8 also grows its young generation (up to 3 × 16 MiB semi-spaces) while the allocation
   * rate stays high: unpinned, RSS rose another ~30 MiB and then plateaued. Capping the
   * semi-space at 4 MiB takes that growth out of the measurement.
   */
  const YOUNG_GENERATION_PINNED = { NODE_OPTIONS: '--max-semi-space-size=4' };
  let dir: string;
  let dp: DataPlane;
  let port: number;
  let slow: Server;
  const held: ServerResponse[] = [];
  let reachedC: () => void = () => undefined;
  const sessions: Http3ClientSession[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-inflight-rss-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    const started = await listen((_req, res) => {
      held.push(res);
      if (held.length === C) reachedC();
    });
    slow = started.server;
    ({ dp, port } = await startPlane(dir, cert, {
      upstream: { slow: { route: { path_prefix: '/' }, backends: [{ id: 'slow', address: started.url }] } },
      performance: { global_inflight_limit: C },
    }, YOUNG_GENERATION_PINNED));
    for (let i = 0; i < 4; i++) sessions.push(await connectH3(port));
  });

  after(async () => {
    for (const res of held) res.destroy();
    for (const s of sessions) await s.close().catch(() => {});
    await dp?.proc.stop();
    await closeServer(slow);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`C=${C} held, ${SHED_TOTAL} excess requests from ${EXCESS_LOOPS} concurrent loops: all shed with 503 + Retry-After, RSS flat`, async (t) => {
    const arrived = new Promise<void>((resolve) => {
      reachedC = resolve;
    });
    // Settled, never rejected: a failure below must not leave these to reject unobserved.
    const admitted = Array.from({ length: C }, (_, i) =>
      h3Request(sessions[i % sessions.length] as Http3ClientSession, port, { path: '/held', timeoutMs: 30_000 }).then(
        (r) => r.status,
        (err: Error) => err.message,
      ),
    );
    try {
      await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('origin never held C requests')), 10_000))]);
      let shed = 0;
      const reasons = new Map<string, number>();
      // RSS peak per phase: phase 0 is the warm-up (heap and buffers grow to their working
      // size); flat = no later phase peaks more than FLAT_MIB above the warm-up's peak.
      const peaks: number[] = [];
      let probe = new RssProbe(dp.pid, 50);
      await Promise.all(
        Array.from({ length: EXCESS_LOOPS }, async (_, i) => {
          const session = sessions[i % sessions.length] as Http3ClientSession;
          while (shed < SHED_TOTAL) {
            const res = await h3Request(session, port, { path: '/excess', timeoutMs: 10_000 });
            assert.equal(res.status, 503, 'only the C held requests are in flight: every other one is shed');
            assert.ok(Number(res.headers['retry-after']) >= 1, 'with Retry-After');
            const reason = String(res.headers['spooky-reason']);
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
            shed++;
            if (shed % PHASE === 0 && shed < SHED_TOTAL) {
              peaks.push(probe.stop().maxMB);
              probe = new RssProbe(dp.pid, 50);
            }
          }
        }),
      );
      peaks.push(probe.stop().maxMB);
      t.diagnostic(`shed ${shed} (${JSON.stringify(Object.fromEntries(reasons))}); RSS peak per ${PHASE} sheds: ${peaks.join(', ')} MiB`);
      assert.deepEqual([...reasons.keys()], ['inflight_global']);
      const warm = peaks[0] as number;
      for (const p of peaks.slice(1)) assert.ok(p - warm < FLAT_MIB, `RSS peaked at ${p} MiB after a warm-up peak of ${warm} MiB (${peaks.join(', ')})`);
    } finally {
      for (const res of held) res.end('done');
    }
    assert.deepEqual(await Promise.all(admitted), Array.from({ length: C }, () => 200), 'the held requests complete once the origin answers');
  });
});
