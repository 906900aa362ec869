/**
 * End to end: backend DNS refresh in a real data plane (`--config`). A backend given by host
 * name (`http://localhost:PORT`; 127.0.0.1 here, plus ::1 where /etc/hosts lists it) is re-resolved every
 * 100 ms: the set does not change, so its pool and keep-alive connection stay (the origin sees
 * the same client port across many rounds). A second backend's name never resolves
 * (`.invalid`, RFC 6761): failures are counted and logged once, not once per round, and the
 * healthy upstream keeps serving.
 *
 * The changed-set path runs the data plane in its own mount namespace (`unshare -m`) whose
 * /etc/hosts is a bind-mounted file the test rewrites (the machine's /etc/hosts is never
 * touched): a name moves from 127.0.0.1 to ::1, where a second origin listens on the same port
 * number; the next request reaches the new origin, and another backend's pool (a name that did
 * not change) keeps its keep-alive connection. Skipped with a message where mount namespaces
 * are not allowed; the same path is unit-tested with an injected resolver in
 * dataplane/src/runtime/backend-dns-refresher.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
/** Sum of the samples of `name` (labelled or not) whose text includes `label` ('' = all). */
function counter(metrics: string, name: string, label: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
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
      const ok = counter(metrics, 'spooky_backend_dns_refresh_success_total', '');
      const failed = counter(metrics, 'spooky_backend_dns_refresh_failure_total', '');
      if (ok >= 3 && failed >= 3) break;
      assert.ok(Date.now() < deadline, `refresh rounds did not run: success ${ok}, failed ${failed}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(counter(metrics, 'spooky_backend_dns_address_set_changes_total', ''), 0);

    const again = await h3Request(session, port, { path: '/b', timeoutMs: 30_000 });
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-client-port'], clientPort, 'same pool, same keep-alive connection');

    const failedLines = dp.proc.lines.filter((l) => l.msg === 'backend DNS refresh failed: keeping the last good addresses');
    assert.equal(failedLines.length, 1, 'one line per change of state, not per round');
    assert.equal(failedLines[0]?.['host'], 'spooky-dns-test.invalid');
    assert.equal(dp.proc.lines.filter((l) => String(l.msg).startsWith('backend addresses changed')).length, 0);
  });
});

/** `unshare` + bind mount of `hosts` over /etc/hosts, then exec of the command: or null when not allowed here. */
function hostsNamespace(hosts: string): string[] | null {
  const launcher = ['unshare', '-m', 'sh', '-c', `mount --bind '${hosts}' /etc/hosts && exec "$@"`, 'sh'];
  const probe = spawnSync(launcher[0] as string, [...launcher.slice(1), 'true'], { timeout: 10_000, stdio: 'ignore' });
  return probe.status === 0 ? launcher : null;
}

/** An HTTP/1.1 origin on `host:port` answering with its name and the client's source port. */
async function namedOrigin(name: string, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('x-origin', name);
    res.setHeader('x-client-port', String(req.socket.remotePort));
    res.end(name);
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

const closeServer = (s: Server | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!s) return resolve();
    s.closeAllConnections();
    s.close(() => resolve());
  });

describe('backend DNS refresh: a changed address set (data plane in a mount namespace)', () => {
  let dir: string;
  let hosts: string;
  let launcher: string[] | null = null;
  let v4: Server | undefined;
  let v6: Server | undefined;
  let stable: Server | undefined;
  let dp: DataPlane | undefined;
  let port: number;
  let session: Http3ClientSession | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-dns-change-'));
    hosts = join(dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost\n');
    launcher = hostsNamespace(hosts);
    if (launcher === null) return;
    // The moving name's two origins share one port number, one per address family.
    for (let i = 0; i < 5 && v6 === undefined; i++) {
      v4 = await namedOrigin('v4', '127.0.0.1', 0);
      const p = (v4.address() as AddressInfo).port;
      v6 = await namedOrigin('v6', '::1', p).catch(async () => {
        await closeServer(v4);
        return undefined;
      });
    }
    assert.ok(v4 && v6, 'two origins on one port number (127.0.0.1 and ::1)');
    stable = await namedOrigin('stable', '127.0.0.1', 0);
    const movingPort = (v4.address() as AddressInfo).port;
    const stablePort = (stable.address() as AddressInfo).port;
    writeFileSync(hosts, '127.0.0.1 localhost\n127.0.0.1 moving.spooky.test\n127.0.0.1 stable.spooky.test\n');
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    port = await freePort();
    const path = join(dir, 'spooky.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        performance: { backend_dns_refresh_enabled: true, backend_dns_refresh_interval_ms: 100 },
        upstream: {
          moving: { route: { path_prefix: '/moving' }, backends: [{ id: 'm', address: `http://moving.spooky.test:${movingPort}` }] },
          stable: { route: { path_prefix: '/stable' }, backends: [{ id: 's', address: `http://stable.spooky.test:${stablePort}` }] },
        },
      }),
    );
    dp = await DataPlane.start({ config: path, launcher });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied', 30_000);
    session = await connectH3(port);
  });

  after(async () => {
    await session?.close().catch(() => undefined);
    await dp?.proc.stop();
    await closeServer(v4);
    await closeServer(v6);
    await closeServer(stable);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the moved name reaches its new address; an unchanged name keeps its pool and connection', async (t) => {
    if (launcher === null || dp === undefined || session === undefined) {
      t.skip('mount namespaces (unshare -m + mount --bind) are not allowed here');
      return;
    }
    const first = await h3Request(session, port, { path: '/moving/1', timeoutMs: 30_000 });
    assert.equal(first.headers['x-origin'], 'v4');
    const stableFirst = await h3Request(session, port, { path: '/stable/1', timeoutMs: 30_000 });
    assert.equal(stableFirst.headers['x-origin'], 'stable');

    // Both names have their baseline (a first round reported) before the move.
    const deadline = Date.now() + 30_000;
    while (counter(await (await fetch(`${dp.admin}/metrics`)).text(), 'spooky_backend_dns_refresh_success_total', '') < 2) {
      assert.ok(Date.now() < deadline, 'no refresh round within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    writeFileSync(hosts, '127.0.0.1 localhost\n::1 moving.spooky.test\n127.0.0.1 stable.spooky.test\n');
    const changed = await dp.proc.waitForLog((l) => String(l.msg).startsWith('backend addresses changed'), 30_000);
    assert.equal(changed['host'], 'moving.spooky.test');
    const metrics = await (await fetch(`${dp.admin}/metrics`)).text();
    assert.ok(counter(metrics, 'spooky_backend_dns_address_set_changes_total', '') >= 1, 'the change is counted');

    const moved = await h3Request(session, port, { path: '/moving/2', timeoutMs: 30_000 });
    assert.equal(moved.status, 200);
    assert.equal(moved.headers['x-origin'], 'v6', 'the re-created pool connects to the new address');
    const stableAgain = await h3Request(session, port, { path: '/stable/2', timeoutMs: 30_000 });
    assert.equal(stableAgain.headers['x-client-port'], stableFirst.headers['x-client-port'], 'the unchanged name kept its pool and keep-alive connection');
    const changes = dp.proc.lines.filter((l) => String(l.msg).startsWith('backend addresses changed'));
    assert.deepEqual(changes.map((l) => l['host']), ['moving.spooky.test'], 'only the moved name changed');
  });
});
