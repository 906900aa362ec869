/**
 * End to end, real processes: the active pointer under concurrent writers, and a node that
 * loses its control plane between a push and its answer.
 *  1. Two PUT /active racing with the same If-Match: one wins (200), one loses (412); no
 *     If-Match → 428; replaying the winner's Idempotency-Key returns the stored response and
 *     moves nothing; the same key with another body → 422; the audit chain verifies.
 *  2. The data plane is frozen (SIGSTOP) while the control plane activates generation 2 and
 *     writes the Push into the stream; the control plane is SIGKILLed and a new one starts on
 *     the same database and gRPC port; then the data plane resumes (SIGCONT). Two orders are
 *     possible and both must converge with exactly one apply of generation 2:
 *     a. the node reads the Push from its socket buffer and applies it before noticing the
 *        broken stream: its Hello to the new control plane says it serves 2, nothing is pushed;
 *     b. the stream is found broken first (a Push still buffered is dropped with it): the
 *        Hello says 1 and the new control plane pushes 2 once.
 *     Left to the kernel, loopback gives order a; the second run puts a TCP relay between node
 *     and control plane that holds the Push back, forcing order b.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration, DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { startH1Origin } from './harness/origins.ts';
import { ControlPlane } from './harness/planes.ts';

interface ActiveView {
  seq: number | null;
  version: number;
}
interface NodeView {
  nodeId: string;
  lastSeenAt: string;
  serving: { seq: number; digest: string } | null;
}
interface AuditItem {
  action: string;
  scope: string | null;
}

const poll = () => new Promise((resolve) => setTimeout(resolve, 50));

function listenConfig(cert: CertFiles, port: number, originUrl: string) {
  return {
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: { one: { route: { path_prefix: '/' }, backends: [{ id: 'o1', address: originUrl }] } },
  };
}

const RACE = 'race';

describe('concurrent writers on the active pointer (real control plane)', () => {
  let dir: string;
  let cp: ControlPlane;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-race-'));
    cp = await ControlPlane.start(join(dir, 'cp'));
  });

  after(async () => {
    await cp?.proc.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('same If-Match at the same time: one 200, one 412; 428 without If-Match; idempotent replay', async () => {
    const cert = ensureSelfSignedCert(join(dir, 'certs'));
    const port = await freePort();
    const seqs: number[] = [];
    for (const origin of ['http://127.0.0.1:10001', 'http://127.0.0.1:10002']) {
      const created = await cp.api<{ seq: number }>('POST', `/v1/scopes/${RACE}/generations`, {
        reason: 'race: create',
        body: listenConfig(cert, port, origin),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      seqs.push(created.body.seq);
    }
    assert.deepEqual(seqs, [1, 2]);

    const initial = await cp.api<ActiveView>('GET', `/v1/scopes/${RACE}/active`);
    assert.equal(initial.headers.get('etag'), '"0"');
    const put = (seq: number, key: string, extra: Record<string, string> = { 'if-match': '"0"' }) =>
      cp.api<{ active: ActiveView; moved: boolean; code?: string }>('PUT', `/v1/scopes/${RACE}/active`, {
        reason: `race: activate ${seq}`,
        body: { seq },
        headers: { 'idempotency-key': key, ...extra },
      });

    const [a, b] = await Promise.all([put(1, 'race-key-1'), put(2, 'race-key-2')]);
    assert.deepEqual([a.status, b.status].sort(), [200, 412], `statuses ${a.status} ${b.status}`);
    const [winner, loser, winnerSeq, winnerKey, loserSeq] = a.status === 200 ? [a, b, 1, 'race-key-1', 2] : [b, a, 2, 'race-key-2', 1];
    assert.equal(winner.body.active.seq, winnerSeq);
    assert.equal(winner.body.active.version, 1);
    assert.equal(winner.headers.get('etag'), '"1"');
    assert.equal(loser.body.code, 'precondition_failed');
    assert.match(loser.headers.get('content-type') ?? '', /application\/problem\+json/);

    const noIfMatch = await put(loserSeq, 'race-key-3', {});
    assert.equal(noIfMatch.status, 428);
    assert.equal(noIfMatch.body.code, 'precondition_required');

    // The winner's request again (its If-Match is stale now): the stored response, not a re-run.
    const replay = await put(winnerSeq, winnerKey);
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(winner.headers.get('idempotent-replayed'), null);
    assert.deepEqual(replay.body, winner.body);
    assert.equal(replay.headers.get('etag'), winner.headers.get('etag'));
    const afterReplay = await cp.api<ActiveView>('GET', `/v1/scopes/${RACE}/active`);
    assert.equal(afterReplay.body.seq, winnerSeq);
    assert.equal(afterReplay.body.version, 1, 'the replay did not move the pointer');

    const reused = await put(loserSeq, winnerKey);
    assert.equal(reused.status, 422);
    assert.equal(reused.body.code, 'idempotency_key_reused');
    assert.equal((await cp.api<ActiveView>('GET', `/v1/scopes/${RACE}/active`)).body.version, 1);

    const audit = await cp.api<{ items: AuditItem[] }>('GET', `/v1/audit?scope=${RACE}`);
    assert.equal(audit.status, 200);
    const moves = audit.body.items.filter((e) => e.action.startsWith('active.'));
    assert.equal(moves.length, 1, `one pointer move audited: ${JSON.stringify(audit.body.items.map((e) => e.action))}`);
    const verify = await cp.api<{ ok: boolean; entries: number }>('GET', '/v1/audit/verify');
    assert.equal(verify.status, 200);
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
    assert.equal(verify.body.entries, 3, 'two creations and one activation');
  });
});

/**
 * A TCP relay in front of the control plane's gRPC port (the node dials the relay), used to
 * force order b. While `hold` is on, bytes from the control plane are dropped, so a Push never
 * reaches the node's socket; when the control plane's side closes, the node's side is reset.
 */
interface Relay {
  readonly port: number;
  hold(on: boolean): void;
  close(): Promise<void>;
}

async function startRelay(targetPort: number): Promise<Relay> {
  let holding = false;
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = connect(targetPort, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {}); // a reset is the point here; 'close' follows
    }
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      if (!holding) down.write(d);
    });
    up.on('close', () => down.resetAndDestroy());
    down.on('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hold: (on) => {
      holding = on;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const SCOPE = 'conv';
const NODE = 'dp-conv';

/**
 * One full run of the frozen-push scenario with its own processes. `viaRelay` forces order b;
 * without it the kernel decides (in practice order a). Either way: serving 2, applied once,
 * at most one push from the new control plane.
 */
async function frozenPushScenario(t: TestContext, viaRelay: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-conv-'));
  const cert = ensureSelfSignedCert(join(dir, 'certs'));
  const h1 = await startH1Origin('origin-a');
  const h1b = await startH1Origin('origin-b');
  const port = await freePort();
  const grpcPort = await freePort();
  const killed: ControlPlane[] = [];
  let cp: ControlPlane | undefined;
  let dp: DataPlane | undefined;
  let relay: Relay | undefined;
  t.after(async () => {
    if (dp) resume(dp.pid);
    await dp?.proc.stop();
    await cp?.proc.stop();
    for (const c of killed) await c.proc.kill();
    await relay?.close();
    await h1.close();
    await h1b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const startCp = (token?: string) =>
    ControlPlane.start(join(dir, 'cp'), { grpc: `127.0.0.1:${grpcPort}`, reportIntervalMs: 200, ...(token === undefined ? {} : { token }) });

  cp = await startCp();
  assert.equal(await cp.pushAndActivate(SCOPE, listenConfig(cert, port, h1.url), 'conv: first'), 1);
  relay = viaRelay ? await startRelay(grpcPort) : undefined;
  const dialled = `127.0.0.1:${relay?.port ?? grpcPort}`;
  const node = await DataPlane.start({ controlPlane: dialled, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache') });
  dp = node;
  await node.waitForApplied(1);
  // The control plane must know the node serves 1 (its push answered) before the freeze,
  // else generation 2 would wait behind the pending push instead of being written.
  await cp.proc.waitForLog((l) => l.msg === 'distribution: ack' && l['nodeId'] === NODE && l['seq'] === 1);
  assert.equal((await h3Fetch(port, { path: '/before' })).headers['x-origin'], 'origin-a');

  // Freeze the primary (it holds the control-plane session); its workers keep serving.
  process.kill(node.pid, 'SIGSTOP');
  try {
    relay?.hold(true);
    assert.equal(await cp.pushAndActivate(SCOPE, listenConfig(cert, port, h1b.url), 'conv: while the node is frozen'), 2);
    await cp.proc.waitForLog((l) => l.msg === 'distribution: push sent' && l['nodeId'] === NODE && l['seq'] === 2, 10_000);
    const old = cp;
    killed.push(old);
    await old.proc.kill();
    cp = await startCp(old.token);
    relay?.hold(false);
  } finally {
    resume(node.pid);
  }
  const current = cp;

  const hello = await current.proc.waitForLog((l) => l.msg === 'distribution: node connected' && l['nodeId'] === NODE, 20_000);
  assert.equal(hello['bootId'], node.bootId, 'same process, same boot id');
  const helloSeq = hello['servingSeq'];
  assert.ok(helloSeq === 1 || helloSeq === 2, `Hello serving ${String(helloSeq)}`);
  if (viaRelay) assert.equal(helloSeq, 1, 'the relay held the Push back: the node cannot have applied it');
  t.diagnostic(helloSeq === 2 ? 'order a: push applied from the socket buffer before reconnecting' : 'order b: stream broken first, pushed again');

  // Serving 2 as the new control plane sees it, then a few more reports: each one makes the
  // control plane decide again, so a wrong second push would have happened by then.
  const view = await waitServing(current, 2, 3);
  assert.equal(view.serving?.seq, 2);
  const pushes = current.proc.lines.filter((l) => l.msg === 'distribution: push sent' && l['nodeId'] === NODE);
  if (helloSeq === 2) {
    assert.equal(pushes.length, 0, 'the node said it serves 2: nothing to push');
  } else {
    assert.equal(pushes.length, 1, 'the node said it serves 1: generation 2 pushed once');
    assert.equal(pushes[0]?.['seq'], 2);
    await current.proc.waitForLog((l) => l.msg === 'distribution: ack' && l['nodeId'] === NODE && l['seq'] === 2);
  }
  const applied = (seq: number) => node.proc.lines.filter((l) => l.msg === 'generation applied' && l['seq'] === seq).length;
  assert.equal(applied(2), 1, 'generation 2 applied exactly once');
  assert.equal(applied(1), 1);
  assert.equal((await adminGeneration(node.admin)).serving?.seq, 2);
  assert.equal((await h3Fetch(port, { path: '/converged' })).headers['x-origin'], 'origin-b');

  const verify = await current.api<{ ok: boolean }>('GET', '/v1/audit/verify');
  assert.equal(verify.status, 200);
  assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
}

/** Polls GET /v1/nodes/NODE until it serves `seq`, then until `reports` more reports arrived. */
async function waitServing(cp: ControlPlane, seq: number, reports: number, timeoutMs = 20_000): Promise<NodeView> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  let counted = -1;
  for (;;) {
    const res = await cp.api<NodeView>('GET', `/v1/nodes/${NODE}`);
    const node = res.status === 200 ? res.body : null;
    if (node?.serving?.seq === seq && node.lastSeenAt !== seen) {
      seen = node.lastSeenAt;
      counted++;
      if (counted >= reports) return node;
    }
    assert.ok(Date.now() < deadline, `${NODE} not serving ${seq} (+${reports} reports) in time: ${JSON.stringify(res.body)}`);
    await poll();
  }
}

describe('reconnect between push and ack (real processes)', () => {
  test('push written to a frozen node, control plane SIGKILLed: converges on 2, applied once (either order)', (t) => frozenPushScenario(t, false));
  test('same, with the Push held back by a relay (order b forced): pushed once more, applied once', (t) => frozenPushScenario(t, true));
});

/** SIGCONT to a process that may be gone already. */
function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // exited
  }
}
