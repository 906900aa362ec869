/**
 * End to end: ConfigSync across control-plane restarts, with real processes. The control plane
 * keeps its SQLite file and its gRPC port across restarts; the data plane keeps running.
 *  1. A graceful restart (GoAway) while the node is connected: the node reconnects with the
 *     same boot id, its Hello says what it serves, and the new control plane pushes nothing.
 *  2. An activation committed while the node could not hear about it (the control plane that
 *     took it was killed before any push; the node dials another port): on the next control
 *     plane's start the node converges, applying that generation exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration, DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane } from './harness/planes.ts';

const SCOPE = 'dist';
const NODE = 'dp-dist';

interface NodeView {
  nodeId: string;
  bootId: string;
  lastSeenAt: string;
  serving: { seq: number; digest: string } | null;
}

/** Waits until the control plane has heard `count` more reports from NODE (lastSeenAt moves). */
async function waitForReports(cp: ControlPlane, count: number, timeoutMs = 20_000): Promise<NodeView> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  let reports = 0;
  for (;;) {
    const res = await cp.api<{ items: NodeView[] }>('GET', `/v1/nodes?scope=${SCOPE}`);
    const node = res.body.items?.find((n) => n.nodeId === NODE);
    if (node && node.lastSeenAt !== seen) {
      if (seen !== '') reports++;
      seen = node.lastSeenAt;
      if (reports >= count) return node;
    }
    assert.ok(Date.now() < deadline, `fewer than ${count} reports from ${NODE}: ${JSON.stringify(node)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pushesTo = (cp: ControlPlane): number =>
  cp.proc.lines.filter((l) => l.msg === 'distribution: push sent' && l['nodeId'] === NODE).length;

describe('ConfigSync across control-plane restarts (real processes)', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  let h1b: Origin;
  let port: number;
  let grpc: string;
  let token: string;
  let cp: ControlPlane;
  let dp: DataPlane;
  const stopped: ControlPlane[] = [];

  const config = (origin: Origin) => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: { one: { route: { path_prefix: '/' }, backends: [{ id: 'o1', address: origin.url }] } },
  });
  const startCp = (grpcAddress: string) => ControlPlane.start(join(dir, 'cp'), { grpc: grpcAddress, token, reportIntervalMs: 200 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-dist-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-a');
    h1b = await startH1Origin('origin-b');
    port = await freePort();
    grpc = `127.0.0.1:${await freePort()}`;
    cp = await ControlPlane.start(join(dir, 'cp'), { grpc, reportIntervalMs: 200 });
    token = cp.token;
    assert.equal(await cp.pushAndActivate(SCOPE, config(h1), 'dist: first'), 1);
    dp = await DataPlane.start({ controlPlane: grpc, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache') });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 1);
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    for (const c of stopped) await c.proc.kill();
    await h1?.close();
    await h1b?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a graceful restart: the node reconnects with the same boot id, says what it serves, gets no push', async () => {
    // The control plane logs the push before sending it, but this process may read the data
    // plane's pipe first when both are ready at once (a loaded machine): wait for the line.
    await cp.proc.waitForLog((l) => l.msg === 'distribution: push sent' && l['nodeId'] === NODE);
    assert.equal(pushesTo(cp), 1);
    const goAwaysBefore = dp.proc.lines.filter((l) => l.msg === 'control: goaway').length;
    await cp.proc.stop();
    await dp.proc.waitForLog((l) => l.msg === 'control: goaway', 10_000, 0);
    assert.ok(dp.proc.lines.filter((l) => l.msg === 'control: goaway').length > goAwaysBefore);

    cp = await startCp(grpc);
    const hello = await cp.proc.waitForLog((l) => l.msg === 'distribution: node connected' && l['nodeId'] === NODE);
    assert.equal(hello['bootId'], dp.bootId, 'same process, same boot id');
    assert.equal(hello['servingSeq'], 1);
    assert.equal(hello['source'], 'control-plane');
    await waitForReports(cp, 3);
    assert.equal(pushesTo(cp), 0, 'what the node already serves is not pushed again');
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'generation applied').length, 1);
    assert.equal((await h3Fetch(port, { path: '/still' })).headers['x-origin'], 'origin-a');
  });

  test('an activation the node missed (control plane killed before pushing) converges once on the next start', async () => {
    await cp.proc.kill();
    // Another control plane on the same database, on a port the node does not dial: the
    // activation commits there and that process dies before any push can happen.
    const elsewhere = await startCp('127.0.0.1:0');
    stopped.push(elsewhere);
    assert.equal(await elsewhere.pushAndActivate(SCOPE, config(h1b), 'dist: activated while the node is away'), 2);
    await elsewhere.proc.kill();
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'generation applied' && l['seq'] === 2).length, 0);
    assert.equal((await h3Fetch(port, { path: '/meanwhile' })).headers['x-origin'], 'origin-a', 'still serving generation 1');

    cp = await startCp(grpc);
    await dp.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 2);
    const node = await waitForReports(cp, 3);
    assert.equal(node.serving?.seq, 2);
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'generation applied' && l['seq'] === 2).length, 1, 'applied exactly once');
    assert.equal(pushesTo(cp), 1);
    assert.equal((await adminGeneration(dp.admin)).serving?.seq, 2);
    assert.equal((await h3Fetch(port, { path: '/converged' })).headers['x-origin'], 'origin-b');
    const audit = await cp.api<{ ok: boolean; entries: number }>('GET', '/v1/audit/verify');
    assert.equal(audit.status, 200);
    assert.equal(audit.body.ok, true, 'the audit chain verifies after the SIGKILLs');
    assert.ok(audit.body.entries >= 4, JSON.stringify(audit.body));
  });
});
