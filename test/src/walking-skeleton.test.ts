/**
 * End-to-end: real control plane + real data plane + real HTTP/1.1 and HTTP/2 origins, driven
 * by a real HTTP/3 client. One shared fleet; the tests run in order and build on each other
 * (generation 1 → 2 → a rejected 3 → control plane killed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { gtlsclientAvailable, gtlsGet } from './harness/gtlsclient.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, patternBytes, startH1Origin, startH2Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';

const SCOPE = 'e2e';
const MiB = 1024 * 1024;

interface NodeView {
  nodeId: string;
  state: string;
  lastSeenAt: string;
  serving: { seq: number; digest: string } | null;
  lastNack: { seq: number; phase: string; issues: Array<{ pointer: string; code: string; message: string }> } | null;
}

function config(opts: { port: number; cert: CertFiles; h1: Origin; h2: Origin; h1RouteTo: Origin }) {
  return {
    version: 1,
    listen: { address: '127.0.0.1', port: opts.port, tls: { cert: opts.cert.cert, key: opts.cert.key } },
    upstream_tls: { verify_certificates: true, ca_file: opts.cert.cert },
    upstream: {
      one: { route: { path_prefix: '/h1' }, backends: [{ id: 'o1', address: opts.h1RouteTo.url }] },
      two: { route: { path_prefix: '/h2' }, backends: [{ id: 'o2', address: opts.h2.url }] },
    },
  };
}

describe('walking skeleton: control plane → gRPC → data plane → HTTP/3 → origins', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  let h2: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-e2e-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-h1');
    h2 = await startH2Origin('origin-h2', cert);
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 200 });
    const seq = await cp.pushAndActivate(SCOPE, config({ port, cert, h1, h2, h1RouteTo: h1 }), 'e2e: first generation');
    assert.equal(seq, 1);
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: 'dp-1', scope: SCOPE, cacheDir: join(dir, 'cache') });
    await dp.waitForApplied(1);
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    await h1?.close();
    await h2?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('routes by path to the HTTP/1.1 and the HTTP/2 origin, headers intact, Alt-Svc added', async () => {
    const a = await h3Fetch(port, { path: '/h1/hello?x=1', headers: { 'x-custom': 'kept', connection: 'close' } });
    assert.equal(a.status, 200);
    assert.equal(a.headers['x-origin'], 'origin-h1');
    assert.equal(a.headers['x-seen-protocol'], '1.1');
    assert.equal(a.headers['alt-svc'], `h3=":${port}"; ma=86400`);
    const seen = JSON.parse(a.body.toString()) as { path: string; headers: Record<string, string> };
    assert.equal(seen.path, '/h1/hello?x=1', 'the original target is forwarded unchanged');
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers['connection'] === 'close', false, 'hop-by-hop headers are not forwarded');

    const b = await h3Fetch(port, { path: '/h2/hello' });
    assert.equal(b.status, 200);
    assert.equal(b.headers['x-origin'], 'origin-h2');
    assert.equal(b.headers['x-seen-protocol'], '2.0');
  });

  test('an independent HTTP/3 client (ngtcp2 gtlsclient) gets the same answer', { skip: gtlsclientAvailable() ? false : 'gtlsclient not installed (Debian package ngtcp2-client; .ci/run installs it)' }, async () => {
    const res = await gtlsGet(port, '/h2/from-ngtcp2');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-origin'], 'origin-h2');
    assert.equal(res.headers['alt-svc'], `h3=":${port}"; ma=86400`);
    assert.equal((JSON.parse(res.body.toString()) as { path: string }).path, '/h2/from-ngtcp2');
  });

  test('1 MiB bodies stream both ways intact, to both origins', async () => {
    const upload = patternBytes(MiB);
    for (const prefix of ['/h1', '/h2']) {
      const echoed = await h3Fetch(port, { method: 'POST', path: `${prefix}/echo`, body: upload, headers: { 'content-type': 'application/x-test' } });
      assert.equal(echoed.status, 200, prefix);
      assert.equal(echoed.headers['content-type'], 'application/x-test');
      assert.equal(echoed.body.length, MiB, `${prefix} echo length`);
      assert.ok(echoed.body.equals(upload), `${prefix} echo bytes`);
      const download = await h3Fetch(port, { path: `${prefix}/big?size=${MiB}` });
      assert.equal(download.status, 200);
      assert.ok(download.body.equals(upload), `${prefix} download bytes`);
    }
  });

  test('trailers from the HTTP/2 origin reach the HTTP/3 client', async () => {
    const res = await h3Fetch(port, { path: '/h2/t?trailers=1' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'body-before-trailers\n');
    assert.equal(res.trailers?.['x-origin-trailer'], 'done');
  });

  test('no matching route is a local 404 with a spooky-reason', async () => {
    const res = await h3Fetch(port, { path: '/nowhere' });
    assert.equal(res.status, 404);
    assert.equal(res.headers['spooky-reason'], 'no_route');
  });

  test('a new generation changes routing on the running data plane; /v1/nodes shows it', async () => {
    const seq = await cp.pushAndActivate(SCOPE, config({ port, cert, h1, h2, h1RouteTo: h2 }), 'e2e: route /h1 to the h2 origin');
    assert.equal(seq, 2);
    await dp.waitForApplied(2);
    const res = await h3Fetch(port, { path: '/h1/after-swap' });
    assert.equal(res.headers['x-origin'], 'origin-h2');
    const nodes = await cp.api<{ items: NodeView[] }>('GET', `/v1/nodes?scope=${SCOPE}`);
    assert.equal(nodes.status, 200);
    const node = nodes.body.items.find((n) => n.nodeId === 'dp-1');
    assert.equal(node?.serving?.seq, 2);
    assert.equal(node?.state, 'connected');
  });

  test('a generation the data plane cannot load is NACKed once, shown with issues, old one keeps serving', async () => {
    const good = config({ port, cert, h1, h2, h1RouteTo: h1 });
    const bad = { ...good, listen: { ...good.listen, tls: { cert: join(dir, 'missing', 'cert.pem'), key: cert.key } } };
    const seq = await cp.pushAndActivate(SCOPE, bad, 'e2e: certificate path that does not exist on the node');
    assert.equal(seq, 3);
    await dp.waitForRejected(3);

    // The node keeps reporting (every 200 ms here). Wait until the control plane has heard
    // three reports after the NACK, then check nothing was re-sent.
    let node: NodeView | undefined;
    let reportsAfterNack = 0;
    let lastSeen = '';
    const deadline = Date.now() + 20_000;
    while (reportsAfterNack < 3) {
      const nodes = await cp.api<{ items: NodeView[] }>('GET', `/v1/nodes?scope=${SCOPE}`);
      node = nodes.body.items.find((n) => n.nodeId === 'dp-1');
      if (node?.lastNack?.seq === 3 && node.lastSeenAt !== lastSeen) {
        if (lastSeen !== '') reportsAfterNack++;
        lastSeen = node.lastSeenAt;
      }
      assert.ok(Date.now() < deadline, `the node did not report 3 times after the NACK: ${JSON.stringify(node)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(node?.serving?.seq, 2, 'the node still serves generation 2');
    assert.ok(node?.lastNack?.issues.some((i) => i.pointer.startsWith('/listen')), JSON.stringify(node?.lastNack));
    const res = await h3Fetch(port, { path: '/h1/still-old' });
    assert.equal(res.headers['x-origin'], 'origin-h2', 'generation 2 keeps serving');
    const rejections = dp.proc.lines.filter((l) => l.msg === 'generation rejected' && l['seq'] === 3);
    assert.equal(rejections.length, 1, 'the NACKed generation is not re-sent');
  });

  test('killing the control plane leaves the data plane serving', async () => {
    await cp.proc.kill();
    const res = await h3Fetch(port, { path: '/h2/without-control-plane' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-origin'], 'origin-h2');
  });
});
