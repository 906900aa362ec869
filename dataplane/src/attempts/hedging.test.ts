/**
 * Hedging through the request handler with real undici transports against real local origins
 * (node:http on port 0, a closed port for connect failures): the hedge wins against a slow
 * backend and the slow origin sees its request cancelled; a lost hedge leaves the breaker
 * closed; refusals (budget, brownout, no alternate) are named; a first try failing before the
 * delay takes the retry path; both tries failing answers with the first try's error; bodies
 * and unsafe methods are never hedged.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { closedTcpPort } from '../testing/free-port.ts';
import { memoryPipeline } from '../testing/memory-pipeline.ts';

interface Origin {
  readonly address: string;
  /** Requests received. */
  seen: number;
  /** Requests whose connection closed before the response finished (the peer cancelled them). */
  cancelled: number;
  /** Resolves at the next cancellation. */
  nextCancel(): Promise<void>;
  close(): Promise<void>;
}

/** An origin that answers `status` after `delayMs` (0: at once); `reset` destroys the socket instead. */
async function origin(delayMs: number, options: { readonly status?: number; readonly reset?: boolean } = {}): Promise<Origin> {
  const waiters: (() => void)[] = [];
  const o: Origin = {
    address: '',
    seen: 0,
    cancelled: 0,
    nextCancel: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
      }),
    close: async () => {},
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    o.seen++;
    req.resume();
    const answer = (): void => {
      if (options.reset === true) res.socket?.destroy();
      else {
        res.statusCode = options.status ?? 200;
        res.end(`from ${delayMs}`);
      }
    };
    const timer = delayMs === 0 ? null : setTimeout(answer, delayMs);
    if (timer === null) answer();
    res.on('close', () => {
      if (res.writableFinished || options.reset === true) return;
      if (timer !== null) clearTimeout(timer);
      o.cancelled++;
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(o, {
    address: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Waits (bounded: 2 s) until the origins saw `n` cancelled requests in all. */
async function cancellations(origins: readonly Origin[], n: number): Promise<void> {
  const total = (): number => origins.reduce((sum, o) => sum + o.cancelled, 0);
  const deadline = performance.now() + 2000;
  while (total() < n) {
    const left = deadline - performance.now();
    if (left <= 0) assert.fail(`saw ${total()} of ${n} cancellations`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([...origins.map((o) => o.nextCancel()), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const HEDGE = { enabled: true, delay_ms: 50, safe_methods: ['GET'] };

function proxy(backends: readonly string[], resilience: Record<string, unknown>, global: Record<string, unknown> = { retry_budget: { ratio_percent: 100 } }) {
  return memoryPipeline(
    {
      version: 1,
      listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'unused.pem', key: 'unused.pem' } },
      upstream: { app: { route: { path_prefix: '/' }, backends: backends.map((address, i) => ({ id: `b${i}`, address })), resilience } },
      performance: { upstream_connect_timeout_ms: 1000, upstream_headers_timeout_ms: 3000, request_timeout_ms: 5000 },
      resilience: global,
    },
    cleanups,
  );
}

describe('hedging', () => {
  it('a GET stuck on a slow backend is answered by the hedge; the slow origin sees its request cancelled; the breaker stays closed', async () => {
    const slow = await origin(1500);
    const fast = await origin(0);
    cleanups.push(() => slow.close(), () => fast.close());
    // failure_threshold 1: one failure verdict from a lost hedge would open the slow backend's breaker.
    const p = await proxy([slow.address, fast.address], { hedging: HEDGE, circuit_breaker: { failure_threshold: 1 } });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await p.send());
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'from 0');
      assert.ok(r.ms < 1000, `answered in ${r.ms} ms, long before the slow origin`);
    }
    const hedged = results.filter((r) => r.event.hedged === true);
    assert.ok(hedged.length >= 1, 'round robin put the first try on the slow backend at least once');
    for (const r of hedged) {
      assert.equal(r.event.hedge, 'won');
      assert.equal(r.event.attempts, 2);
      assert.equal(r.event.backend, 'b1');
    }
    for (const r of results.filter((x) => x.event.hedged !== true)) assert.equal(r.event.hedge, null);
    // Every slow request was cancelled (its close may trail the response).
    await cancellations([slow], slow.seen);
    assert.equal(slow.cancelled, hedged.length);
    for (const [, s] of p.state.breakers.states(performance.now())) assert.equal(s, 'closed');
    assert.equal(p.state.health.isAvailable('app', slow.address), true, 'lost races are neutral for passive health');
  });

  it('the first head wins even when it is the first try: the hedge is cancelled at its origin', async () => {
    // The first try's origin answers after 150 ms, the hedge's (started at 50 ms) after 1 s: the
    // first try's head comes first by a margin a loaded machine cannot close (with both at 150 ms
    // the hedge could finish before its cancel arrived, and no cancellation was seen).
    const a = await origin(150);
    const b = await origin(1000);
    cleanups.push(() => a.close(), () => b.close());
    const p = await proxy([a.address, b.address], { hedging: HEDGE });
    const r = await p.send();
    assert.equal(r.status, 200);
    assert.equal(r.event.hedge, 'lost');
    assert.equal(r.event.backend, 'b0');
    await cancellations([a, b], 1);
    assert.equal(a.cancelled + b.cancelled, 1);
  });

  it('no hedge when the retry budget refuses (refused_budget), when brownout is on (refused_brownout), or when no alternate is left (no_alternate)', async () => {
    const a = await origin(120);
    const b = await origin(120);
    cleanups.push(() => a.close(), () => b.close());
    // ratio 0: the budget allows one retry per window (`+ 1`), then refuses.
    const p = await proxy([a.address, b.address], { hedging: HEDGE, retry_budget: { ratio_percent: 0 } }, { retry_budget: { ratio_percent: 0 } });
    const first = await p.send();
    assert.ok(first.event.hedge === 'won' || first.event.hedge === 'lost', String(first.event.hedge));
    const refused = await p.send();
    assert.equal(refused.status, 200);
    assert.equal(refused.event.hedge, 'refused_budget');
    assert.equal(refused.event.attempts, 1);

    const q = await proxy([a.address, b.address], { hedging: HEDGE });
    // Brownout held on whatever the pressure (admission observes it on every request and would
    // turn it off at this load); with no core routes it sheds nothing, so only hedging sees it.
    q.state.brownout.reconfigure({ enabled: true, trigger_inflight_percent: 50, recover_inflight_percent: 10, core_routes: [] });
    q.state.brownout.observe = () => true;
    Object.defineProperty(q.state.brownout, 'active', { get: () => true });
    const browned = await q.send();
    assert.equal(browned.status, 200);
    assert.equal(browned.event.hedge, 'refused_brownout');
    assert.equal(browned.event.attempts, 1);

    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const r = await proxy([a.address, dead], { hedging: HEDGE, circuit_breaker: { failure_threshold: 1 } });
    // The first request meets the dead backend (first try or hedge) and opens its breaker.
    const opening = await r.send();
    assert.equal(opening.status, 200);
    const alone = await r.send();
    assert.equal(alone.status, 200);
    assert.equal(alone.event.hedge, 'no_alternate');
    assert.equal(alone.event.attempts, 1);
  });

  it('a first try that fails before the delay takes the retry path: no hedge, two attempts', async () => {
    const fast = await origin(0);
    cleanups.push(() => fast.close());
    const dead = `http://127.0.0.1:${await closedTcpPort()}`;
    const p = await proxy([dead, fast.address], { hedging: { ...HEDGE, delay_ms: 2000 }, circuit_breaker: { enabled: false } });
    const results = [await p.send(), await p.send()];
    const retried = results.find((r) => r.event.attempts === 2);
    assert.ok(retried, 'one request went to the dead backend first');
    assert.equal(retried.status, 200);
    assert.equal(retried.event.hedge, null);
    assert.equal(retried.event.hedged, false);
    assert.ok(retried.ms < 1500, `retried at once, not after the hedge delay (${retried.ms} ms)`);
    assert.equal(fast.seen, 2);
  });

  it('both tries failing answer with the first try error; retry refused as max_attempts', async () => {
    const a = await origin(150, { reset: true });
    const b = await origin(150, { reset: true });
    cleanups.push(() => a.close(), () => b.close());
    const p = await proxy([a.address, b.address], { hedging: HEDGE, circuit_breaker: { enabled: false } });
    const r = await p.send();
    assert.equal(r.status, 502);
    assert.equal(r.event.outcome, 'upstream:reset');
    assert.equal(r.event.hedge, 'failed');
    assert.equal(r.event.hedged, true);
    assert.equal(r.event.attempts, 2);
    assert.equal(r.event.retryRefusal, 'max_attempts');
    assert.equal(a.seen + b.seen, 2);
  });

  it('a POST, a GET with a body and a hedging-disabled upstream wait for the slow backend', async () => {
    const slow = await origin(300);
    const slow2 = await origin(300);
    cleanups.push(() => slow.close(), () => slow2.close());
    const p = await proxy([slow.address, slow2.address], { hedging: HEDGE });
    const post = await p.send({ method: 'POST', body: Buffer.from('x') });
    assert.equal(post.status, 200);
    assert.equal(post.event.hedge, null);
    assert.equal(post.event.attempts, 1);
    const withBody = await p.send({ body: Buffer.from('x') });
    assert.equal(withBody.event.hedge, null);
    const q = await proxy([slow.address, slow2.address], { hedging: { ...HEDGE, enabled: false } });
    const off = await q.send();
    assert.equal(off.status, 200);
    assert.equal(off.event.hedge, null);
    assert.equal(off.event.attempts, 1);
    assert.ok(off.ms >= 250, `waited for the slow origin (${off.ms} ms)`);
    assert.equal(slow.cancelled + slow2.cancelled, 0);
  });
});
