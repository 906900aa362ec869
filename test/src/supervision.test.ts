/**
 * End to end: the data plane's serving workers are supervised by its primary (dataplane/src/
 * bootstrap/supervisor.ts) and survive a poisonous generation (apply/fleet-applier.ts,
 * cache/apply-journal.ts, apply/generation-budget.ts). Real control plane, real data planes,
 * real HTTP/3; one worker each (the harness default).
 *
 * The poison is a valid generation whose cost is far above what the worker's heap can hold:
 * POISON_UPSTREAMS × 1000 backends, each with an active health check (a probe pool of ~20 KB
 * each when the checkers start). The worker runs with a small heap (NODE_OPTIONS) so it dies
 * of memory while applying it within a second or two.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration, DATA_PLANE_MAIN, DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane } from './harness/planes.ts';
import { type LogLine, SpawnedProcess } from './harness/spawned-process.ts';

const POISON_UPSTREAMS = 9; // 9 001 backends with the good one: under the config cap of 10 000
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=96' };

describe('supervision and poisonous generations', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  let cp: ControlPlane;
  const running: DataPlane[] = [];

  const goodConfig = (port: number, tag: string) => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: `o-${tag}`, address: h1.url }] } },
  });
  const poisonConfig = (port: number) => {
    const config = goodConfig(port, 'poison') as { upstream: Record<string, unknown> };
    for (let u = 0; u < POISON_UPSTREAMS; u++) {
      config.upstream[`bulk${u}`] = {
        backends: Array.from({ length: 1000 }, (_, b) => ({
          id: `b${b}`,
          address: `http://10.0.${u}.1:${10_000 + b}`,
          health_check: { path: '/healthz', interval: 60_000 },
        })),
      };
    }
    return config;
  };
  const workerReadyAfter = (dp: DataPlane, from: number) => dp.proc.waitForLog((l) => l.msg === 'worker ready', 20_000, from);
  const nackFor = (seq: number) => (l: LogLine) => l.msg === 'distribution: nack, digest parked for this boot' && l['seq'] === seq;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-supervision-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-h1');
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 200 });
  });

  after(async () => {
    for (const dp of running) await dp.proc.stop();
    await cp?.proc.stop();
    await h1?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a worker killed with SIGKILL is replaced and serves again on the same admin address', async () => {
    const port = await freePort();
    const file = join(dir, 'standalone.json');
    writeFileSync(file, JSON.stringify(goodConfig(port, 'standalone')));
    const sa = await DataPlane.start({ config: file });
    running.push(sa);
    await sa.proc.waitForLog((l) => l.msg === 'generation applied');
    assert.equal((await h3Fetch(port, { path: '/before' })).status, 200);
    assert.notEqual(sa.workerPid, sa.proc.child.pid, 'the serving process is a worker of the spawned primary');
    assert.equal(sa.pid, sa.proc.child.pid);

    const from = sa.proc.lines.length;
    process.kill(sa.workerPid, 'SIGKILL');
    const exited = await sa.proc.waitForLog((l) => l.msg === 'worker exited' && l['workerPid'] === sa.workerPid, 10_000, from);
    assert.equal(exited['signal'], 'SIGKILL');
    const again = await workerReadyAfter(sa, from);
    assert.notEqual(again['pid'], sa.workerPid);
    // The replacement gets the generation from the primary (the file as read at start).
    const applied = await sa.proc.waitForLog((l) => l.msg === 'generation applied', 20_000, from);
    assert.equal(applied['pid'], again['pid']);
    await sa.proc.waitForLog((l) => l.msg === 'worker joined' && l['workerPid'] === again['pid'], 20_000, from);
    assert.equal((await h3Fetch(port, { path: '/after' })).status, 200);
    assert.equal((await fetch(`${sa.admin}/ready`)).status, 200, 'the admin server (in the primary) never went away');
    assert.equal((await adminGeneration(sa.admin)).serving?.source, 'local-file');
    assert.equal(await sa.proc.stop(), 0, 'the supervisor exits with the worker clean code');
  });

  test('startup failures exit once, without a restart loop: a rejected standalone config (1), a busy admin port (1), a config the worker refuses (1)', async () => {
    // The primary reads and validates the file before it forks anything.
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ version: 1, bogus: true }));
    const rejected = new SpawnedProcess('data-plane bad', DATA_PLANE_MAIN, ['--config', bad, '--admin', '127.0.0.1:0']);
    assert.equal(await rejected.exited, 1);
    assert.equal(rejected.lines.filter((l) => l.msg === 'worker started').length, 0);
    assert.ok(rejected.lines.some((l) => l.msg === 'config file rejected'));

    // Valid, but the workers cannot apply it (no such certificate file): refused once, exit 1.
    const missing = join(dir, 'missing-cert.json');
    const noCert = goodConfig(await freePort(), 'no-cert') as { listen: { tls: { cert: string } } };
    noCert.listen.tls.cert = join(dir, 'no-such-cert.pem');
    writeFileSync(missing, JSON.stringify(noCert));
    const refused = new SpawnedProcess('data-plane refused', DATA_PLANE_MAIN, ['--config', missing, '--admin', '127.0.0.1:0', '--workers', '2']);
    assert.equal(await refused.exited, 1);
    assert.equal(refused.lines.filter((l) => l.msg === 'worker started').length, 2, 'two workers, no restart');
    assert.equal(refused.lines.filter((l) => l.msg === 'generation rejected').length, 2);

    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as AddressInfo).port;
    try {
      const file = join(dir, 'standalone-busy.json');
      writeFileSync(file, JSON.stringify(goodConfig(await freePort(), 'busy')));
      const proc = new SpawnedProcess('data-plane busy', DATA_PLANE_MAIN, ['--config', file, '--admin', `127.0.0.1:${busy}`]);
      assert.equal(await proc.exited, 1);
      assert.equal(proc.lines.filter((l) => l.msg === 'worker started').length, 0, 'the admin server is the primary\'s, bound before any fork');
      assert.ok(proc.lines.some((l) => l.msg === 'admin server could not listen'));
    } finally {
      holder.close();
    }
  });

  test('a worker that dies applying a generation is replaced on the last good one and the generation is NACKed; the control plane marks it failed', async (t) => {
    const scope = 'poison';
    const port = await freePort();
    assert.equal(await cp.pushAndActivate(scope, goodConfig(port, 'good'), 'the good generation'), 1);
    const dp = await DataPlane.start({
      controlPlane: cp.grpc,
      nodeId: 'dp-poison',
      scope,
      cacheDir: join(dir, 'cache-poison'),
      extra: ['--max-generation-memory-mb', '1048576'],
      env: SMALL_HEAP,
    });
    running.push(dp);
    await dp.proc.waitForLog((l) => l.msg === 'generation cached' && l['seq'] === 1);
    assert.equal((await h3Fetch(port, { path: '/good' })).status, 200);

    const from = dp.proc.lines.length;
    const cpFrom = cp.proc.lines.length;
    assert.equal(await cp.pushAndActivate(scope, poisonConfig(port), 'the poison'), 2);
    const died = await dp.proc.waitForLog((l) => l.msg === 'worker exited' && l['workerPid'] === dp.workerPid, 30_000, from);
    assert.ok(died['signal'] !== null || died['code'] !== 0, JSON.stringify(died));
    const oom = dp.proc.stderr.some((l) => /heap out of memory|Reached heap limit/.test(l));
    t.diagnostic(`poisoned worker exit: code ${died['code']} signal ${died['signal']}, out of memory: ${oom}`);
    assert.ok(oom, `the worker died of memory:\n${dp.proc.stderr.slice(-10).join('\n')}`);
    const crashed = await dp.proc.waitForLog((l) => l.msg === 'crashed while applying a generation', 20_000, from);
    assert.equal(crashed['seq'], 2);
    assert.equal(crashed['workerPid'], dp.workerPid);
    // The primary still holds the last good generation: the replacement joins on it.
    const joined = await dp.proc.waitForLog((l) => l.msg === 'worker joined' && l['workerPid'] !== dp.workerPid, 20_000, from);
    assert.equal(joined['seq'], 1, 'the last good generation, handed over by the primary');
    const refused = await dp.proc.waitForLog((l) => l.msg === 'generation rejected' && l['seq'] === 2, 20_000, from);
    assert.equal(refused['retryable'], false);
    assert.equal(refused['phase'], 'compile');
    assert.equal((refused['issues'] as { code: string }[])[0]?.code, 'generation.crashed_while_applying');
    assert.equal((await h3Fetch(port, { path: '/after-crash' })).status, 200);
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving?.seq, 1);

    await cp.proc.waitForLog(nackFor(2), 20_000, cpFrom);
    const gen = await cp.api<{ failed: boolean; failedReason: string | null }>('GET', `/v1/scopes/${scope}/generations/2`);
    assert.equal(gen.body.failed, true, JSON.stringify(gen.body));
    assert.match(gen.body.failedReason ?? '', /crashed while applying/);

    // Rolling back to the good generation still works (the node already serves it).
    const back = await cp.api('POST', `/v1/scopes/${scope}/rollback`, { reason: 'back to good', body: { to: 'previous' } });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal((await adminGeneration(dp.admin)).serving?.seq, 1);
    assert.equal((await h3Fetch(port, { path: '/rolled-back' })).status, 200);
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'worker exited').length, 1, 'one crash, no loop');
  });

  test('with the memory budget on, the same generation is NACKed without dying', async () => {
    const scope = 'budget';
    const port = await freePort();
    assert.equal(await cp.pushAndActivate(scope, goodConfig(port, 'good'), 'the good generation'), 1);
    const dp = await DataPlane.start({
      controlPlane: cp.grpc,
      nodeId: 'dp-budget',
      scope,
      cacheDir: join(dir, 'cache-budget'),
      extra: ['--max-generation-memory-mb', '64'],
      env: SMALL_HEAP,
    });
    running.push(dp);
    await dp.waitForApplied(1);
    const from = dp.proc.lines.length;
    const cpFrom = cp.proc.lines.length;
    assert.equal(await cp.pushAndActivate(scope, poisonConfig(port), 'the poison'), 2);
    const refused = await dp.waitForRejected(2);
    assert.equal(refused['retryable'], false);
    assert.equal(refused['phase'], 'compile');
    const issue = (refused['issues'] as { code: string; message: string }[])[0];
    assert.equal(issue?.code, 'generation.over_memory_budget');
    assert.match(issue?.message ?? '', /estimated [\d.]+ MiB .*9001 backends \(9000 actively checked\).*budget is 64 MiB/);
    assert.equal((await h3Fetch(port, { path: '/still-serving' })).status, 200);
    assert.equal(dp.proc.lines.slice(from).filter((l) => l.msg === 'worker exited').length, 0);
    // The data plane logs its NACK before the control plane has recorded it: wait for that.
    await cp.proc.waitForLog(nackFor(2), 20_000, cpFrom);
    const gen = await cp.api<{ failed: boolean }>('GET', `/v1/scopes/${scope}/generations/2`);
    assert.equal(gen.body.failed, true);
  });
});
