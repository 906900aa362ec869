/**
 * End to end: node identity on ConfigSync with real processes and real certificates (openssl).
 * The control plane serves gRPC over mutual TLS (--grpc-tls-cert/--grpc-tls-key/--grpc-client-ca);
 * data planes dial with --ca-file/--cert/--key. A node certificate names
 * `spiffe://spooky/scope/<scope>/node/<id>`:
 *  - scope A with its own id: subscribed, generation applied, in the fleet;
 *  - scope B with a certificate for A: PERMISSION_DENIED (in both logs), not in B's fleet; once
 *    the certificate is renewed to name B too, the running data plane subscribes on reconnect;
 *  - a node id the certificate does not name: PERMISSION_DENIED;
 *  - no client certificate, or an expired one: refused in the handshake, in no fleet;
 *  - a refused stream's Hello + Nack (a bare client, as a fake node would send them) marks
 *    nothing: B's generation stays good and activatable;
 *  - startup refusals: a data plane without certificates against a non-loopback control plane
 *    (exit 2, naming the flags), a control plane with plaintext gRPC on a non-loopback host or a
 *    key not matching its certificate (exit 1); no key text or key path in any output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { ConfigSyncClient, type FromDataPlane } from '@spooky/proto';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { type GrpcPki, makeGrpcPki } from './harness/grpc-pki.ts';
import { makeExpiredLeaf, makeLeaf, type Pem } from './harness/pki.ts';
import { CONTROL_PLANE_MAIN, ControlPlane, DATA_PLANE_MAIN } from './harness/planes.ts';
import { SpawnedProcess } from './harness/spawned-process.ts';

const A = 'alpha';
const B = 'beta';

interface NodeView {
  nodeId: string;
}

describe('node identity on ConfigSync (real processes, mutual TLS)', () => {
  let dir: string;
  let cpCa: Pem;
  let nodeCa: Pem;
  let nodeA: Pem;
  let expired: Pem;
  let listenerPem: Pem;
  let pki: GrpcPki;
  let server: Pem;
  const refusedProcs: SpawnedProcess[] = [];
  const exitWithin = async (proc: SpawnedProcess, ms = 20_000): Promise<number | null> => {
    refusedProcs.push(proc);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${proc.name} still running after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([proc.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  let cp: ControlPlane;
  let seqA = 0;
  let seqB = 0;
  const started: DataPlane[] = [];

  const config = (port: number, listener: Pem) => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: listener.cert, key: listener.key } },
    upstream: { one: { route: { path_prefix: '/' }, backends: [{ id: 'o1', address: 'http://127.0.0.1:9' }] } },
  });
  const startDp = async (nodeId: string, scope: string, pem: Pem | null): Promise<DataPlane> => {
    const tls = pem ? pki.dataPlaneFlags(pem) : [];
    const dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId, scope, cacheDir: join(dir, `cache-${nodeId}-${scope}`), extra: [...tls, '--cache-grace-ms', '600000'] });
    started.push(dp);
    return dp;
  };
  const fleet = async (scope: string): Promise<string[]> => {
    const res = await cp.api<{ items: NodeView[] }>('GET', `/v1/nodes?scope=${scope}`);
    assert.equal(res.status, 200);
    return res.body.items.map((n) => n.nodeId);
  };
  /**
   * The control plane's node list converges after the data plane logged its apply (the Ack and
   * the next Report are processed asynchronously; slow on a loaded machine): poll it, bounded.
   */
  const fleetSettles = async (scope: string, want: readonly string[], ms = 20_000): Promise<string[]> => {
    const deadline = Date.now() + ms;
    let seen = await fleet(scope);
    while (JSON.stringify(seen) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await fleet(scope);
    }
    return seen;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-node-identity-'));
    pki = makeGrpcPki(join(dir, 'pki'));
    ({ cpCa, nodeCa, server } = pki);
    nodeA = pki.node('dp-a', [A]);
    expired = makeExpiredLeaf(join(dir, 'pki'), 'dp-old', 'dp-old', `URI:spiffe://spooky/scope/${A}/node/dp-old`, nodeCa);
    listenerPem = makeLeaf(join(dir, 'pki'), 'listener', 'localhost', 'DNS:localhost,IP:127.0.0.1', cpCa);
    cp = await ControlPlane.start(join(dir, 'cp'), {
      reportIntervalMs: 300,
      extra: pki.controlPlaneFlags,
    });
    assert.ok(cp.proc.lines.some((l) => l.msg === 'distribution: ConfigSync listening (mutual TLS, node identity checked)'));
    seqA = await cp.pushAndActivate(A, config(await freePort(), listenerPem), 'node identity e2e: scope A');
    seqB = await cp.pushAndActivate(B, config(await freePort(), listenerPem), 'node identity e2e: scope B');
  });

  after(async () => {
    for (const dp of started) await dp.proc.stop();
    for (const p of refusedProcs) await p.kill();
    await cp?.proc.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a node with a certificate for scope A subscribes to A and applies its generation', async () => {
    const dp = await startDp('dp-a', A, nodeA);
    await dp.waitForApplied(seqA);
    assert.deepEqual(await fleet(A), ['dp-a']);
  });

  test('a certificate for A asking for scope B: PERMISSION_DENIED, logged on both sides, counted, not in B; renewed for B, it subscribes on reconnect', async () => {
    const pki = join(dir, 'pki');
    const renewable = makeLeaf(pki, 'dp-ab', 'dp-a', `URI:spiffe://spooky/scope/${A}/node/dp-a`, nodeCa);
    const dp = await startDp('dp-a', B, renewable);
    const refused = await dp.proc.waitForLog((l) => l.msg === 'control: refused by the control plane (node identity), retrying');
    assert.equal(refused['code'], status.PERMISSION_DENIED);
    assert.match(String(refused['details']), /does not allow scope beta: it allows scope alpha as node dp-a/);
    const logged = await cp.proc.waitForLog((l) => l['reason'] === 'scope_not_allowed' && l['scope'] === B);
    assert.match(String(logged.msg), /^distribution: node refused/);
    assert.deepEqual(await fleet(B), []);
    assert.ok(!dp.proc.lines.some((l) => l.msg === 'generation applied'), 'nothing of B was applied');
    const metrics = await cp.api<string>('GET', '/metrics');
    assert.match(String(metrics.body), /spooky_cp_node_auth_failures_total\{reason="scope_not_allowed"\} [1-9]/);

    // The data plane reads its files before every attempt: a renewed certificate naming B is
    // used on the next reconnect (backoff ≤ 10 s), no restart.
    makeLeaf(pki, 'dp-ab', 'dp-a', `URI:spiffe://spooky/scope/${A}/node/dp-a,URI:spiffe://spooky/scope/${B}/node/dp-a`, nodeCa);
    await dp.waitForApplied(seqB, 30_000);
    assert.deepEqual(await fleetSettles(B, ['dp-a']), ['dp-a']);
    await dp.proc.stop();
  });

  test('a node id the certificate does not name: PERMISSION_DENIED', async () => {
    const dp = await startDp('dp-x', A, nodeA);
    const refused = await dp.proc.waitForLog((l) => l.msg === 'control: refused by the control plane (node identity), retrying');
    assert.match(String(refused['details']), /Hello node id dp-x does not match the client certificate/);
    await cp.proc.waitForLog((l) => l['reason'] === 'node_id_mismatch');
    assert.deepEqual(await fleetSettles(A, ['dp-a']), ['dp-a']);
    await dp.proc.stop();
  });

  test('no client certificate, or an expired one: refused in the handshake, in no fleet', async () => {
    const plain = await startDp('dp-plain', A, null);
    const expiredDp = await startDp('dp-old', A, expired);
    for (const dp of [plain, expiredDp]) {
      const lost = await dp.proc.waitForLog((l) => l.msg === 'control: stream lost, reconnecting');
      assert.equal(lost['code'], status.UNAVAILABLE);
      assert.ok(!dp.proc.lines.some((l) => l.msg === 'control: session established'));
    }
    assert.deepEqual(await fleetSettles(A, ['dp-a']), ['dp-a']);
    await plain.proc.stop();
    await expiredDp.proc.stop();
  });

  test("a refused node's Nack marks nothing: B's generation stays good", async () => {
    const generation = await cp.api<{ digest: string; failed: boolean }>('GET', `/v1/scopes/${B}/generations/${seqB}`);
    assert.equal(generation.status, 200);
    const client = new ConfigSyncClient(cp.grpc, credentials.createSsl(readFileSync(cpCa.cert), readFileSync(nodeA.key), readFileSync(nodeA.cert)));
    try {
      const stream = client.session();
      const ended = new Promise<ServiceError>((resolve, reject) => {
        stream.on('data', () => reject(new Error('a refused node was sent something')));
        stream.on('error', resolve);
      });
      const hello: FromDataPlane = {
        msg: { $case: 'hello', value: { nodeId: 'dp-a', bootId: 'fake', scope: B, labels: {}, schemaMin: 9, schemaMax: 9, build: 'fake', serving: undefined, source: 1, acceptEncodings: [], candidate: undefined, candidatePercent: 0 } },
      };
      stream.write(hello);
      stream.write({
        msg: { $case: 'nack', value: { nonce: 'x', rejected: { scope: B, seq: seqB, digest: generation.body.digest }, stillServing: undefined, phase: 'compile', retryable: false, issues: [] } },
      });
      assert.equal((await ended).code, status.PERMISSION_DENIED);
    } finally {
      client.close();
    }
    const after = await cp.api<{ failed: boolean }>('GET', `/v1/scopes/${B}/generations/${seqB}`);
    assert.equal(after.body.failed, false);
    assert.ok(!cp.proc.lines.some((l) => l['bootId'] === 'fake' && l.msg === 'distribution: node connected'), 'the fake boot never connected');
    // The schema range 9..9 it announced blocks nothing: a new generation of B still activates
    // (pushAndActivate throws on anything but 200).
    const next = await cp.pushAndActivate(B, config(await freePort(), listenerPem), 'node identity e2e: B still activatable');
    assert.ok(next > seqB);
  });
  test('startup refusals say what to pass: data plane without certificates, plaintext or mismatched control plane', async () => {
    const dp = new SpawnedProcess('dp-no-certs', DATA_PLANE_MAIN, [
      '--control-plane', '10.255.255.1:8090', '--node-id', 'dp-n', '--scope', A, '--cache-dir', join(dir, 'cache-n'), '--admin', '127.0.0.1:0',
    ]);
    assert.equal(await exitWithin(dp), 2);
    assert.match(dp.stderr.join('\n'), /--control-plane host 10\.255\.255\.1 is not loopback: pass --ca-file FILE .*--cert FILE --key FILE.*or --allow-insecure-grpc/);

    const base = ['--http', '127.0.0.1:0', '--tokens', join(dir, 'cp', 'tokens.json')];
    const plain = new SpawnedProcess('cp-plain-grpc', CONTROL_PLANE_MAIN, ['--db', join(dir, 'plain.db'), ...base, '--grpc', '0.0.0.0:0']);
    assert.equal(await exitWithin(plain), 1);
    assert.match(plain.stderr.join('\n'), /startup failed: --grpc host 0\.0\.0\.0 is not loopback .*--grpc-tls-cert FILE --grpc-tls-key FILE --grpc-client-ca FILE, or --allow-insecure-grpc/);

    const mismatched = new SpawnedProcess('cp-bad-grpc-key', CONTROL_PLANE_MAIN, [
      '--db', join(dir, 'bad.db'), ...base, '--grpc', '127.0.0.1:0',
      '--grpc-tls-cert', server.cert, '--grpc-tls-key', nodeA.key, '--grpc-client-ca', nodeCa.cert,
    ]);
    assert.equal(await exitWithin(mismatched), 1);
    const said = mismatched.stderr.join('\n');
    assert.match(said, /startup failed: --grpc-tls-key does not match the certificate of --grpc-tls-cert/);
    assert.ok(!said.includes(nodeA.key), 'the key path is not printed');
  });

  test('no private key text or key path appears in any log or stderr line', () => {
    const keys = [nodeA.key, expired.key, server.key];
    const secrets = [...keys, ...keys.map((k) => readFileSync(k, 'utf8').split('\n')[1] ?? 'unused')];
    const procs = [cp.proc, ...started.map((d) => d.proc), ...refusedProcs];
    const everything = procs.flatMap((p) => [...p.lines.map((l) => JSON.stringify(l)), ...p.stderr]).join('\n');
    assert.ok(everything.length > 0);
    for (const secret of secrets) assert.ok(secret.length > 20 && !everything.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`);
  });
});
