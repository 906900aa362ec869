/**
 * End-to-end brownout: a standalone data plane (`--config`) with a global in-flight limit of
 * 10 and brownout on at 50 % / off at 20 %, `core` in front of an origin that holds its
 * requests, `web` in front of a fast one. Holding 5 core requests turns brownout on: web gets
 * 503 `brownout` + Retry-After while core still passes; it stays on at 40 % (hysteresis) and
 * goes off at 20 %. Each transition is logged once with its pressure. Synchronised on origin
 * arrivals and responses, every wait bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, type H3Response, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import type { SpawnedProcess } from './harness/spawned-process.ts';

/** Resolves once `cond` holds, polling every 10 ms; rejects after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('brownout end to end (standalone data plane, HTTP/3 clients, HTTP/1.1 origins)', () => {
  let dir: string;
  let dp: SpawnedProcess;
  let session: Http3ClientSession;
  let port: number;
  let fast: Origin;
  const held: ServerResponse[] = [];
  const holding = createServer((_req, res) => {
    held.push(res);
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-overload-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
    fast = await startH1Origin('fast');
    port = await freePort();
    const path = join(dir, 'spooky.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream: {
          core: { route: { path_prefix: '/core' }, backends: [{ id: 'hold', address: `http://127.0.0.1:${(holding.address() as AddressInfo).port}` }] },
          web: { route: { path_prefix: '/web' }, backends: [{ id: 'fast', address: fast.url }] },
        },
        performance: { global_inflight_limit: 10 },
        resilience: { brownout: { enabled: true, trigger_inflight_percent: 50, recover_inflight_percent: 20, core_routes: ['core'] } },
      }),
    );
    ({ proc: dp } = await DataPlane.start({ config: path }));
    await dp.waitForLog((l) => l.msg === 'generation applied');
    session = await connectH3(port);
  });

  after(async () => {
    for (const res of held) res.destroy();
    await session?.close().catch(() => {});
    await dp?.stop();
    await fast?.close();
    holding.closeAllConnections();
    await new Promise<void>((resolve) => holding.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string): Promise<H3Response> => h3Request(session, port, { path, timeoutMs: 10_000 });

  test('5 of 10 permits held by core: web is shed with 503 brownout until the pressure is back at 20 %', async () => {
    assert.equal((await get('/web/a')).status, 200, 'no pressure: web passes');
    const core = Array.from({ length: 5 }, () => get('/core/held'));
    await until(() => held.length === 5, '5 core requests at the holding origin');

    const shed = await get('/web/b');
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['spooky-reason'], 'brownout');
    assert.ok(Number(shed.headers['retry-after']) >= 1, 'Retry-After');
    const on = await dp.waitForLog((l) => l.msg === 'brownout on');
    assert.equal(on.pressurePercent, 50);

    // Core still passes during brownout (its own request is held too: 6 held now).
    const sixth = get('/core/held');
    await until(() => held.length === 6, 'a 6th core request admitted');
    const webBefore = fast.requests.length;

    // Release down to 4 held (40 %): above the recover level, still shedding.
    for (const res of held.splice(0, 2)) res.end('done');
    const released = await Promise.all(core.slice(0, 2));
    assert.deepEqual(
      released.map((r) => r.status),
      [200, 200],
    );
    assert.equal((await get('/web/c')).headers['spooky-reason'], 'brownout', 'hysteresis: still on at 40 %');
    assert.equal(fast.requests.length, webBefore, 'no shed request reached the web origin');

    // Down to 2 held (20 %): off. The permit returns just after the response ends, so a request
    // racing it may still see 30 %: ask until it passes (bounded).
    for (const res of held.splice(0, 2)) res.end('done');
    await Promise.all(core.slice(2, 4));
    let passed: H3Response | null = null;
    const deadline = Date.now() + 5000;
    while (passed === null && Date.now() < deadline) {
      const r = await get('/web/d');
      if (r.status === 200) passed = r;
      else assert.equal(r.headers['spooky-reason'], 'brownout');
    }
    assert.ok(passed, 'web passes again once the pressure fell to the recover level');
    const off = await dp.waitForLog((l) => l.msg === 'brownout off');
    assert.equal(off.pressurePercent, 20);
    assert.equal(dp.lines.filter((l) => l.msg === 'brownout on' || l.msg === 'brownout off').length, 2, 'each transition logged once');

    for (const res of held.splice(0)) res.end('done');
    const rest = await Promise.all([...core.slice(4), sixth]);
    assert.deepEqual(
      rest.map((r) => r.status),
      [200, 200],
    );
  });
});
