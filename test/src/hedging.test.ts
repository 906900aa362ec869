/**
 * End-to-end hedging: a standalone data plane (`--config`) with an HTTP/3 client in front of
 * two real HTTP/1.1 origins, one slow (answers after 1500 ms, records cancelled requests) and
 * one fast. With hedging on (delay 100 ms) a GET whose first try meets the slow origin is
 * answered by the fast one long before the slow origin would answer, and the slow origin sees
 * its request cancelled. A POST is never hedged; with hedging off the request waits for the
 * slow origin. Synchronised on responses and the origin's cancel events, every wait bounded.
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
import { type SlowOrigin, startSlowOrigin } from './harness/slow-origin.ts';

const SLOW_MS = 1500;
const HEDGE = { enabled: true, delay_ms: 100, safe_methods: ['GET', 'HEAD'] };

describe('hedging end to end (standalone data plane, HTTP/3 client, HTTP/1.1 origins)', () => {
  let dir: string;
  let cert: CertFiles;
  let port: number;
  let dp: DataPlane;
  let session: Http3ClientSession;
  let slow: SlowOrigin;
  let fast: Origin;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-hedging-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    slow = await startSlowOrigin('slow', SLOW_MS);
    fast = await startH1Origin('fast');
    port = await freePort();
    const backends = [
      { id: 'slow', address: slow.url },
      { id: 'fast', address: fast.url },
    ];
    const path = join(dir, 'spooky.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream: {
          hedged: { route: { path_prefix: '/hedged' }, backends, resilience: { hedging: HEDGE } },
          plain: { route: { path_prefix: '/plain' }, backends },
        },
        // Every hedge of this suite must be allowed (the default 10 % allows one per 10 s here).
        resilience: { retry_budget: { ratio_percent: 100 } },
      }),
    );
    dp = await DataPlane.start({ config: path });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied');
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => {});
    await dp?.proc.stop();
    await slow?.close();
    await fast?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a GET whose first try meets the slow origin is answered by the fast one; the slow origin sees it cancelled', async () => {
    // Round robin alternates the first try: within 4 requests some start on the slow origin.
    let hedged = 0;
    for (let i = 0; i < 4; i++) {
      const slowBefore = slow.seen();
      const cancelled = slow.cancelled();
      const cancel = slow.nextCancel(3000);
      const started = performance.now();
      const res = await h3Request(session, port, { path: '/hedged/x', timeoutMs: 5000 });
      const ms = performance.now() - started;
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-origin'], 'fast');
      // A functional bound (delay 100 ms + a fast origin), far below the slow origin's 1500 ms.
      assert.ok(ms < 1000, `answered in ${Math.round(ms)} ms`);
      if (slow.seen() > slowBefore) {
        hedged++;
        if (slow.cancelled() === cancelled) await cancel;
        assert.equal(slow.cancelled(), cancelled + 1, 'the slow origin saw its request cancelled');
      } else {
        cancel.catch(() => {}); // no hedge: no cancellation expected
      }
    }
    assert.ok(hedged >= 1, 'some request started on the slow origin');
    const metrics = await (await fetch(`${dp.admin}/metrics`)).text();
    assert.match(metrics, new RegExp(`spooky_hedges_total\\{upstream="hedged",result="won"\\} ${hedged}`));
    assert.match(metrics, new RegExp(`spooky_hedges_total\\{upstream="hedged",result="sent"\\} ${hedged}`));
  });

  test('a POST is never hedged: it waits for the slow origin when it lands there', async () => {
    let sawSlow = false;
    for (let i = 0; i < 2; i++) {
      const res = await h3Request(session, port, { method: 'POST', path: '/hedged/p', body: 'x', headers: { 'content-length': '1' }, timeoutMs: 5000 });
      assert.equal(res.status, 200);
      if (res.headers['x-origin'] === 'slow') sawSlow = true;
    }
    assert.ok(sawSlow, 'one of two POSTs went to the slow origin and was answered by it');
  });

  test('with hedging off the GET waits for the slow origin', async () => {
    const cancelled = slow.cancelled();
    let sawSlow = false;
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const res = await h3Request(session, port, { path: '/plain/x', timeoutMs: 5000 });
      assert.equal(res.status, 200);
      if (res.headers['x-origin'] === 'slow') {
        sawSlow = true;
        assert.ok(performance.now() - started >= SLOW_MS - 100, 'waited for the slow origin');
      }
    }
    assert.ok(sawSlow, 'one of two GETs went to the slow origin');
    assert.equal(slow.cancelled(), cancelled, 'nothing was cancelled');
  });
});
