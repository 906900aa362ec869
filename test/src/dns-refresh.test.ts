/**
 * End to end: backend DNS refresh in a real data plane (`--config`). A backend given by host
 * name (`http://localhost:PORT`; 127.0.0.1 here, plus ::1 where /etc/hosts lists it) is re-resolved every
 * 100 ms: the set does not change, so its pool and keep-alive connection stay (the origin sees
 * the same client port across many rounds). A second backend's name never resolves
 * (`.invalid`, RFC 6761): failures are counted and logged once, not once per round, and the
 * healthy upstream keeps serving. /etc/hosts is not touched; the changed-set path (only that
 * host's pools re-created) is covered with an injected resolver in
 * dataplane/src/runtime/backend-dns-refresher.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';

/** Sum of a counter's samples with `label` in the Prometheus text. */
function counter(metrics: string, name: string, label: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) if (line.startsWith(`${name}{`) && line.includes(label)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

describe('backend DNS refresh end to end (standalone data plane)', () => {
  let dir: string;
  let origin: Server;
  let originPort: number;
  let dp: DataPlane;
  let port: number;
  let session: Http3ClientSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-dns-'));
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = createServer((req, res) => {
      res.setHeader('x-client-port', String(req.socket.remotePort));
      res.end('ok');
    });
    origin.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
    port = await freePort();
    const config = {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
      performance: { backend_dns_refresh_enabled: true, backend_dns_refresh_interval_ms: 100 },
      upstream: {
        named: { route: { path_prefix: '/' }, backends: [{ id: 'local', address: `http://localhost:${originPort}` }] },
        unresolvable: { route: { path_prefix: '/never' }, backends: [{ id: 'x', address: 'http://spooky-dns-test.invalid:80' }] },
      },
    };
    const path = join(dir, 'spooky.json');
    writeFileSync(path, JSON.stringify(config));
    dp = await DataPlane.start({ config: path });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 30_000);
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => undefined);
    await dp?.proc.stop();
    await new Promise<void>((resolve) => {
      origin?.closeAllConnections();
      if (origin) origin.close(() => resolve());
      else resolve();
    });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an unchanged set keeps the pool and its connection; a failing name is logged once and counted', async () => {
    const first = await h3Request(session, port, { path: '/a', timeoutMs: 30_000 });
    assert.equal(first.status, 200);
    const clientPort = first.headers['x-client-port'];

    // Wait (bounded) until several rounds ran: ≥ 3 successful and ≥ 3 failed lookups.
    const deadline = Date.now() + 30_000;
    let metrics = '';
    for (;;) {
      metrics = await (await fetch(`${dp.admin}/metrics`)).text();
      const ok = counter(metrics, 'spooky_backend_dns_refreshes_total', 'result="unchanged"');
      const failed = counter(metrics, 'spooky_backend_dns_refreshes_total', 'result="failed"');
      if (ok >= 3 && failed >= 3) break;
      assert.ok(Date.now() < deadline, `refresh rounds did not run: unchanged ${ok}, failed ${failed}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(counter(metrics, 'spooky_backend_dns_refreshes_total', 'result="changed"'), 0);

    const again = await h3Request(session, port, { path: '/b', timeoutMs: 30_000 });
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-client-port'], clientPort, 'same pool, same keep-alive connection');

    const failedLines = dp.proc.lines.filter((l) => l.msg === 'backend DNS refresh failed: keeping the last good addresses');
    assert.equal(failedLines.length, 1, 'one line per change of state, not per round');
    assert.equal(failedLines[0]?.['host'], 'spooky-dns-test.invalid');
    assert.equal(dp.proc.lines.filter((l) => String(l.msg).startsWith('backend addresses changed')).length, 0);
  });
});
