/**
 * End to end, real processes: the in-node canary of issue 12 with ONE data plane (a fleet of
 * one). A real control plane and one real data plane (`--workers 1`) on this host's loopback;
 * clients connect from distinct addresses 127.1.x.y (harness/sourced-https.ts), because the
 * canary splits by client address. N routes `/` to origin-a, N+1 to origin-b, so every answer
 * says which generation served it. The rollout has one stage (the whole fleet, long soak) so
 * the node holds N+1 as its candidate for the whole measurement.
 *  1. canary.percent 5: ≈ 5 % (±1 %) of 5 000 requests from 5 000 addresses reach N+1, the same
 *     address always lands on the same side, and an abort sends everyone back to N;
 *  2. a candidate routing to a dead backend, with the control plane unreachable (SIGSTOP) after
 *     the push: the node falls back to N on its own (every request answered by N), and once the
 *     control plane runs again it has the NACK (phase canary) and the rollout is rolled back;
 *  3. SIGKILL of the data plane right after it applied a candidate: the restarted process (same
 *     node id and cache, within crash_window) serves N, NACKs N+1, and the rollout is rolled back;
 *  4. those were two automatic rollbacks in a row: the scope is frozen (423).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminGeneration, DataPlane } from './harness/data-plane.ts';
import { eventually } from './harness/eventually.ts';
import { fleetConfig } from './harness/fleet-config.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { makeCa, makeLeaf, type Pem } from './harness/pki.ts';
import { ControlPlane } from './harness/planes.ts';
import { getRollout, operate, type RolloutView, startStaged, summary, testPolicy, waitFinal, waitLkg } from './harness/rollout-api.ts';
import { sweep } from './harness/sourced-https.ts';

const SCOPE = 'solo';
const NODE = 'solo-1';
const REPORT_MS = 500;

/** One stage over the whole fleet (of one), soaking far longer than the test needs. */
const policy = (canaryPercent: number) =>
  testPolicy({ canaryPercent, minRequests: 20, stages: [{ name: 'fleet', percent: 100, soak_ms: 600_000 }] });

interface NodeDetail {
  lastNack: { phase?: string; seq?: number; digest?: string } | null;
}

describe('in-node canary with a single data plane', { timeout: 600_000 }, () => {
  let dir: string;
  let ca: Pem;
  let caPem: string;
  let leaf: Pem;
  let cp: ControlPlane;
  let dp: DataPlane;
  let a: Origin;
  let b: Origin;
  let port: number;
  let deadPort: number;
  let marks = 0;
  /** Next unused client address index: every sweep uses fresh addresses. */
  let nextAddress = 0;

  const config = (backend: string) =>
    fleetConfig(port, leaf, [
      { name: 'app', pathPrefix: '/', backend },
      { name: `mark${++marks}`, pathPrefix: `/mark-${marks}`, backend },
    ]);
  const create = async (body: unknown): Promise<{ seq: number; digest: string }> => {
    const res = await cp.api<{ seq: number; digest: string }>('POST', `/v1/scopes/${SCOPE}/generations`, { reason: 'e2e: canary', body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const fresh = (count: number, path: string) => {
    const from = nextAddress;
    nextAddress += count;
    return sweep(port, path, caPem, from, count);
  };
  const startDataPlane = () => DataPlane.start({ controlPlane: cp.grpc, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache') });
  /** The candidate is applied and ACKed: the rollout's gate counted the node's ACK. */
  const candidateHeld = (id: string) =>
    eventually(`${NODE} ACKed the candidate of ${id}`, async () => {
      const v = await getRollout(cp, id);
      assert.equal(v.final, false, summary(v));
      return (v.lastEvaluation?.numbers.acks.acked ?? 0) >= 1 ? v : undefined;
    }, { timeoutMs: 30_000 });
  const rolledBackByNack = async (id: string): Promise<RolloutView> => {
    const view = await waitFinal(cp, id, 60_000);
    assert.equal(view.status, 'rolled_back', summary(view));
    const failed = view.decisions.find((d) => d.kind === 'gate_failed');
    assert.ok(failed?.failures?.some((f) => f.rule === 'nack.budget' && f.nodes?.includes(NODE)), summary(view));
    const node = await cp.api<NodeDetail>('GET', `/v1/nodes/${NODE}`);
    assert.equal(node.body.lastNack?.phase, 'canary', JSON.stringify(node.body.lastNack));
    return view;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-in-node-'));
    ca = makeCa(join(dir, 'pki'), 'ca');
    caPem = readFileSync(ca.cert, 'utf8');
    leaf = makeLeaf(join(dir, 'pki'), 'listener', 'localhost', 'DNS:localhost,IP:127.0.0.1', ca);
    a = await startH1Origin('origin-a');
    b = await startH1Origin('origin-b');
    port = await freePort();
    deadPort = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: REPORT_MS });
    assert.equal(await cp.pushAndActivate(SCOPE, config(a.url), 'e2e: N (immediate)'), 1);
    dp = await startDataPlane();
    await dp.waitForApplied(1, 30_000);
    await waitLkg(cp, SCOPE, 1);
  });

  after(async () => {
    const cpPid = cp?.proc.child.pid;
    if (cpPid !== undefined && cp.proc.child.exitCode === null) process.kill(cpPid, 'SIGCONT'); // in case a case stopped it
    await dp?.proc.stop();
    await cp?.proc.stop();
    await a?.close();
    await b?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('1. ≈ canary_percent (5 % ± 1 %) of 5 000 requests from distinct clients reach N+1; abort sends all back to N', { timeout: 240_000 }, async (t) => {
    const next = await create(config(b.url));
    const started = await startStaged(cp, SCOPE, next.seq, policy(5));
    assert.equal(started.res.status, 202, JSON.stringify(started.res.body));
    await candidateHeld(started.id);
    const held = (await adminGeneration(dp.admin)).candidate;
    assert.deepEqual([held?.seq, held?.percent], [next.seq, 5], `admin shows the held candidate: ${JSON.stringify(held)}`);

    const answers = await fresh(5_000, '/split');
    const failed = answers.filter((r) => r.status !== 200);
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of 5 000 failed`);
    const toCandidate = answers.filter((r) => r.headers['x-origin'] === 'origin-b').length;
    const share = toCandidate / answers.length;
    t.diagnostic(`N+1 served ${toCandidate} of 5 000 distinct clients (${(share * 100).toFixed(2)} %)`);
    assert.ok(Math.abs(share - 0.05) <= 0.01, `share on N+1: ${(share * 100).toFixed(2)} % (${toCandidate} of 5 000)`);
    const during = await getRollout(cp, started.id);
    assert.equal(during.status, 'running', 'measured while the node held the candidate');
    assert.equal(during.currentStage, 0);

    // Stable per client: the same 300 addresses again land on the same side.
    const again = await sweep(port, '/split-again', caPem, 0, 300);
    assert.deepEqual(again.map((r) => r.headers['x-origin']), answers.slice(0, 300).map((r) => r.headers['x-origin']));

    const aborted = await operate(cp, started.id, 'abort');
    assert.equal(aborted.status, 200, JSON.stringify(aborted.body));
    const view = await waitFinal(cp, started.id, 30_000);
    assert.equal(view.status, 'aborted', summary(view));
    await eventually('N serves everyone after the abort', async () => {
      const res = await fresh(100, '/after-abort');
      return res.every((r) => r.headers['x-origin'] === 'origin-a') ? true : undefined;
    }, { timeoutMs: 20_000 });
    const after = await adminGeneration(dp.admin);
    assert.equal(after.serving?.seq, 1);
    assert.equal(after.candidate, null, 'the candidate is dropped');
  });

  test('2. a failing candidate, control plane unreachable: the node falls back to N on its own and NACKs (phase canary)', { timeout: 180_000 }, async () => {
    const bad = await create(config(`http://127.0.0.1:${deadPort}`));
    const started = await startStaged(cp, SCOPE, bad.seq, policy(5));
    assert.equal(started.res.status, 202, JSON.stringify(started.res.body));
    await candidateHeld(started.id);
    const cpPid = cp.proc.child.pid;
    assert.ok(cpPid !== undefined && cpPid > 0);
    process.kill(cpPid, 'SIGSTOP');
    try {
      // Requests from fresh clients: the candidate's share fails until the node has seen
      // enough of them (min_requests) and falls back; then every answer is N's.
      let failedOnCandidate = 0;
      await eventually('the node fell back to N by itself', async () => {
        const res = await fresh(400, '/while-cp-stopped');
        const failures = res.filter((r) => r.status !== 200).length;
        failedOnCandidate += failures;
        return failures === 0 && res.every((r) => r.headers['x-origin'] === 'origin-a') ? true : undefined;
      }, { timeoutMs: 90_000, everyMs: 10 });
      assert.ok(failedOnCandidate >= 1, 'the candidate did fail requests before the fall-back (the case is real)');
      assert.ok(dp.proc.child.exitCode === null, 'the data plane is still running');
    } finally {
      process.kill(cpPid, 'SIGCONT');
    }
    await rolledBackByNack(started.id);
    assert.equal((await adminGeneration(dp.admin)).serving?.seq, 1);
  });

  test('3. SIGKILL right after applying a candidate: the restarted node serves N and NACKs N+1', { timeout: 180_000 }, async () => {
    const next = await create(config(b.url));
    const started = await startStaged(cp, SCOPE, next.seq, policy(5));
    assert.equal(started.res.status, 202, JSON.stringify(started.res.body));
    await candidateHeld(started.id);
    const worker = dp.workerPid;
    await dp.proc.kill();
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // the worker followed its primary already
    }
    dp = await startDataPlane();
    await eventually('the restarted node serves N', async () => ((await adminGeneration(dp.admin)).serving?.seq === 1 ? true : undefined), { timeoutMs: 30_000 });
    await rolledBackByNack(started.id);
    const res = await fresh(200, '/after-crash');
    assert.ok(res.every((r) => r.status === 200 && r.headers['x-origin'] === 'origin-a'), 'every client served by N');
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving?.seq, 1);
    assert.equal(view.candidate, null, 'the restarted node holds no candidate');
  });

  test('4. two automatic rollbacks in a row froze the scope: a staged activation answers 423', async () => {
    const next = await create(config(b.url));
    const refused = await startStaged(cp, SCOPE, next.seq, policy(5));
    assert.equal(refused.res.status, 423, JSON.stringify(refused.res.body));
  });
});
