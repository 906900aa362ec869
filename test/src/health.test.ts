/**
 * End-to-end health checking: a standalone data plane (`--config`) in front of three real
 * HTTP/1.1 origins with an active health_check, under a steady stream of HTTP/3 requests.
 * One origin is closed → the data plane ejects it (log "health transition" to=unhealthy) and
 * from then on no client request fails or reaches it; the origin restarts on the same port →
 * it is re-admitted (to=healthy) and takes requests again. Synchronised on log lines and on
 * responses, never on sleeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import type { LogLine, SpawnedProcess } from './harness/spawned-process.ts';

const HEALTH = { path: '/health', interval: 200, timeout_ms: 100, failure_threshold: 2, success_threshold: 1, cooldown_ms: 500 };

/** One client request of the stream and what came of it. */
interface Sample {
  /** Stream phase when the request was sent. */
  readonly phase: 'before-close' | 'ejecting' | 'ejected' | 'readmitted';
  status: number | null;
  origin: string | null;
  error: string | null;
}

/** Sends HTTP/3 GETs back to back until stopped (several loops in parallel on one connection). */
class RequestStream {
  readonly samples: Sample[] = [];
  phase: Sample['phase'] = 'before-close';
  #stopped = false;
  #loops: Promise<void>[] = [];
  #waiters: Array<{ match: (s: Sample) => boolean; resolve: () => void }> = [];

  start(session: Http3ClientSession, port: number, parallel = 2): void {
    for (let i = 0; i < parallel; i++) this.#loops.push(this.#loop(session, port));
  }

  async #loop(session: Http3ClientSession, port: number): Promise<void> {
    while (!this.#stopped) {
      const sample: Sample = { phase: this.phase, status: null, origin: null, error: null };
      try {
        const res = await h3Request(session, port, { path: '/traffic', timeoutMs: 5000 });
        sample.status = res.status;
        const origin = res.headers['x-origin'];
        sample.origin = typeof origin === 'string' ? origin : null;
      } catch (err) {
        sample.error = (err as Error).message;
      }
      this.samples.push(sample);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(sample)) return true;
        w.resolve();
        return false;
      });
    }
  }

  /** Resolves once a finished sample matches (bounded by `timeoutMs`). */
  waitFor(match: (s: Sample) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Resolves after `n` more samples matching `match` finished. */
  waitForCount(match: (s: Sample) => boolean, n: number, what: string): Promise<void> {
    let seen = 0;
    return this.waitFor((s) => match(s) && ++seen >= n, what);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }
}

const failed = (s: Sample): boolean => s.error !== null || s.status !== 200;

describe('health checks end to end (standalone data plane, three HTTP/1.1 origins)', () => {
  let dir: string;
  let cert: CertFiles;
  const origins = new Map<string, Origin>();
  let dp: SpawnedProcess;
  let admin: string;
  let port: number;
  let session: Http3ClientSession;
  const stream = new RequestStream();

  const transition = (backend: string, to: string) => (l: LogLine) =>
    l.msg === 'health transition' && l['backend'] === backend && l['to'] === to;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-health-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    for (const name of ['o1', 'o2', 'o3']) origins.set(name, await startH1Origin(name));
    port = await freePort();
    const config = {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
      upstream: {
        app: {
          route: { path_prefix: '/' },
          backends: [...origins.values()].map((o) => ({ id: o.name, address: o.url, health_check: HEALTH })),
        },
      },
      // Health checking alone: an open circuit breaker (30 s by default) would keep the
      // re-admitted origin out past this test's bounds.
      resilience: { circuit_breaker: { enabled: false } },
    };
    const configPath = join(dir, 'spooky.json');
    writeFileSync(configPath, JSON.stringify(config));
    ({ proc: dp, admin } = await DataPlane.start({ config: configPath }));
    await dp.waitForLog((l) => l.msg === 'generation applied');
    session = await connectH3(port);
  });

  after(async () => {
    await stream.stop();
    await session?.close().catch(() => {});
    await dp?.stop();
    for (const o of origins.values()) await o.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('all three origins take traffic and are probed through their own connections', async () => {
    stream.start(session, port);
    for (const name of origins.keys()) await stream.waitFor((s) => s.origin === name, `a response from ${name}`);
    const probes = (name: string) => origins.get(name)?.requests.filter((r) => r.path === '/health') ?? [];
    await Promise.all(
      [...origins.keys()].map(async (name) => {
        const deadline = Date.now() + 5000;
        while (probes(name).length === 0 && Date.now() < deadline) await stream.waitForCount(() => true, 1, 'a sample');
      }),
    );
    for (const name of origins.keys()) {
      assert.ok(probes(name).length > 0, `${name} was probed`);
      assert.equal(probes(name)[0]?.headers['user-agent'], 'spooky-health-check');
    }
    assert.equal((await fetch(`${admin}/ready`)).status, 200);
    assert.equal(stream.samples.filter(failed).length, 0, 'no failures while all origins are up');
  });

  test('a closed origin is ejected; after ejection no request fails or reaches it', async (t) => {
    const o2 = origins.get('o2');
    assert.ok(o2);
    stream.phase = 'ejecting';
    const closedAt = stream.samples.length;
    await o2.close();
    const from = dp.lines.length;
    const ejected = await dp.waitForLog(transition('o2', 'unhealthy'), 10_000, from);
    assert.equal(ejected['from'], 'healthy');
    assert.equal(ejected['reason'], 'failure_threshold');
    stream.phase = 'ejected';
    await stream.waitForCount((s) => s.phase === 'ejected', 60, '60 requests after the ejection');

    const afterEjection = stream.samples.filter((s) => s.phase === 'ejected');
    assert.deepEqual(afterEjection.filter(failed), [], 'no request sent after the ejection failed');
    assert.equal(afterEjection.some((s) => s.origin === 'o2'), false, 'no request reached o2');
    assert.ok(afterEjection.some((s) => s.origin === 'o1') && afterEjection.some((s) => s.origin === 'o3'));

    // Before the ejection requests may fail (no retries yet), but only those sent between the
    // close and the ejection, and only as upstream failures (502), never more than the window held.
    // (Samples are recorded when they finish: index ≥ closedAt = finished after the close began.)
    const window = stream.samples.slice(closedAt).filter((s) => s.phase !== 'ejected');
    const failures = stream.samples.filter(failed);
    assert.deepEqual(stream.samples.slice(0, closedAt).filter(failed), [], 'no failure before the close');
    assert.ok(failures.every((s) => s.phase !== 'ejected'), 'failures only inside the ejection window');
    assert.ok(failures.length <= window.length);
    t.diagnostic(`ejection window: ${window.length} requests finished, ${failures.length} failed`);
    assert.ok(failures.every((s) => s.status === 502), `failures are 502s: ${JSON.stringify(failures.slice(0, 3))}`);
    assert.equal((await fetch(`${admin}/ready`)).status, 200, 'two backends still serve');
  });

  test('the origin restarted on the same port is re-admitted and takes requests again', async () => {
    const old = origins.get('o2');
    assert.ok(old);
    const from = dp.lines.length;
    const restarted = await startH1Origin('o2', old.port);
    origins.set('o2', restarted);
    const readmitted = await dp.waitForLog(transition('o2', 'healthy'), 10_000, from);
    assert.equal(readmitted['from'], 'probing');
    stream.phase = 'readmitted';
    await stream.waitFor((s) => s.phase === 'readmitted' && s.origin === 'o2', 'a response from the restarted o2');
    assert.ok(restarted.requests.some((r) => r.path === '/traffic'));
    assert.deepEqual(
      stream.samples.filter((s) => s.phase === 'readmitted').filter(failed),
      [],
      'no failures after re-admission',
    );

    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /spooky_health_transitions_total\{upstream="app",backend="o2",to="unhealthy"\} [1-9]\d*/);
    assert.match(metrics, /spooky_health_transitions_total\{upstream="app",backend="o2",to="healthy"\} 1/);
    assert.match(metrics, /spooky_backend_healthy\{upstream="app",backend="o2"\} 1/);
    assert.match(metrics, /spooky_backend_healthy\{upstream="app",backend="o1"\} 1/);
  });
});
