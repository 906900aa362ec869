/**
 * End-to-end: the config's `log.level` is honoured live on every new generation, in every
 * process of a real data plane (its serving workers and the primary), without a restart; and
 * `--log-level` / SPOOKY_DP_LOG_LEVEL pins the level over it (README "Logs").
 *
 * One real control plane and origin; per case a real data plane (`--workers 1`, `--workers 2`,
 * `--no-supervise`, and one pinned by SPOOKY_DP_LOG_LEVEL=info) in its own scope, driven over
 * real HTTP/3. The
 * generations go debug → warn → info → info: with `debug` a request writes its `spooky-route`
 * debug line and its access line; with `warn` a request writes neither, and no worker writes
 * any line below warn; back at `info` the access line returns without the debug one. Each
 * process's level is also read from the admin `/generation` (`logLevel`, per worker and the
 * primary's own).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration } from './harness/data-plane.ts';
import { eventually } from './harness/eventually.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';
import type { LogLine } from './harness/spawned-process.ts';

const WARN = 40;

interface LevelsView {
  logLevel?: string;
  serving: { seq: number } | null;
  workers: { pid: number; seq: number | null; logLevel: string | null }[];
}

describe('log.level, live on a new generation', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let cp: ControlPlane;
  const started: DataPlane[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-log-level-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('origin');
    cp = await ControlPlane.start(join(dir, 'cp'));
  });

  after(async () => {
    for (const dp of started) await dp.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (port: number, level: string, note = '') => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: `o1${note}`, address: origin.url }] } },
    log: { level },
  });

  async function startNode(scope: string, port: number, level: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<DataPlane> {
    const seq = await cp.pushAndActivate(scope, config(port, level), `log level ${level}`);
    assert.equal(seq, 1);
    const dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: `dp-${scope}`, scope, cacheDir: join(dir, `cache-${scope}`), extra, env });
    started.push(dp);
    return dp;
  }

  /** Resolves once the node serves `seq` and the primary and every worker log at `level`. */
  function levelsAre(dp: DataPlane, seq: number, level: string, workers: number): Promise<LevelsView> {
    let last: LevelsView | undefined;
    return eventually(
      `${dp.proc.name} serving ${seq} at ${level} in all ${workers} workers and the primary`,
      async () => {
        last = (await adminGeneration(dp.admin)) as unknown as LevelsView;
        const ok = last.serving?.seq === seq && last.logLevel === level && last.workers.length === workers && last.workers.every((w) => w.seq === seq && w.logLevel === level);
        return ok ? last : undefined;
      },
      { timeoutMs: 20_000, everyMs: 50, last: () => last },
    );
  }

  async function get(port: number, requestId: string): Promise<void> {
    const res = await h3Fetch(port, { path: `/${requestId}`, headers: { 'x-request-id': requestId } });
    assert.equal(res.status, 200, requestId);
  }

  const byId = (dp: DataPlane, requestId: string, msg: string): LogLine[] => dp.proc.lines.filter((l) => l['requestId'] === requestId && l.msg === msg);

  for (const { name, extra, workers } of [
    { name: '--workers 1', extra: ['--workers', '1'], workers: 1 },
    { name: '--workers 2', extra: ['--workers', '2'], workers: 2 },
    // One process: the primary's logger is the worker's, so its lines follow at once.
    { name: '--no-supervise', extra: ['--no-supervise'], workers: 1 },
  ]) {
    const oneProcess = extra.includes('--no-supervise');
    test(`${name}: debug → warn → info, in every worker and the primary, without a restart`, async () => {
      const scope = `live-${name.replace(/[^a-z0-9]+/g, '')}`;
      const port = await freePort();
      const dp = await startNode(scope, port, 'debug', extra);
      await levelsAre(dp, 1, 'debug', workers);
      const workerPids = new Set(((await adminGeneration(dp.admin)) as unknown as LevelsView).workers.map((w) => w.pid));

      // debug: the route decision trace (debug) and the access line (info) of the request.
      await get(port, `${scope}-r1`);
      const access1 = await dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === `${scope}-r1`);
      const trace1 = byId(dp, `${scope}-r1`, 'spooky-route');
      assert.equal(trace1.length, 1, 'one spooky-route debug line');
      assert.equal(trace1[0]?.['level'], 20);
      assert.ok(workerPids.has(Number(access1['pid'])), 'written by a worker');

      // warn: nothing below warn from any worker while it serves generation 2.
      const seq2 = await cp.pushAndActivate(scope, config(port, 'warn'), 'log level warn');
      await levelsAre(dp, seq2, 'warn', workers);
      const mark = dp.proc.lines.length;
      await get(port, `${scope}-r2`);
      const seq3 = await cp.pushAndActivate(scope, config(port, 'info'), 'log level info');
      // Each worker's "generation applied" of generation 3 is written at info, after its switch;
      // anything the worker wrote for r2 precedes it on the same stdout.
      for (const pid of workerPids) await dp.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === seq3 && l['pid'] === pid, 20_000, mark);
      await levelsAre(dp, seq3, 'info', workers);
      assert.deepEqual(byId(dp, `${scope}-r2`, 'request'), [], 'no access line at warn');
      assert.deepEqual(byId(dp, `${scope}-r2`, 'spooky-route'), [], 'no debug line at warn');
      const firstOfSeq3 = dp.proc.lines.findIndex((l, i) => i >= mark && l.msg === 'generation applied' && l['seq'] === seq3);
      const quiet = dp.proc.lines.slice(mark, firstOfSeq3).filter((l) => workerPids.has(Number(l['pid'])) && Number(l['level']) < WARN);
      assert.deepEqual(quiet, [], 'no worker line below warn while generation 2 served');
      assert.equal(
        dp.proc.lines.some((l) => l.msg === 'generation applied' && l['seq'] === seq2),
        false,
        "generation 2's own \"generation applied\" obeys its warn",
      );

      // info: the access line again, no debug line.
      await get(port, `${scope}-r3`);
      await dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === `${scope}-r3`);
      assert.deepEqual(byId(dp, `${scope}-r3`, 'spooky-route'), [], 'debug is off at info');

      // The primary's own lines obey too: generation 3's "applied by all workers" was written while
      // it still logged at warn (in one process: after the worker's switch to info); generation
      // 4's (info, same level) is written.
      assert.equal(
        dp.proc.lines.some((l) => l.msg === 'generation applied by all workers' && l['seq'] === seq3),
        oneProcess,
        oneProcess ? 'one logger: already at info' : 'the primary was at warn when generation 3 was applied',
      );
      const seq4 = await cp.pushAndActivate(scope, config(port, 'info', '-b'), 'log level info again');
      const primaryLine = await dp.proc.waitForLog((l) => l.msg === 'generation applied by all workers' && l['seq'] === seq4);
      assert.equal(primaryLine['pid'], dp.pid);
      assert.ok(
        dp.proc.lines.some((l) => l.msg === 'generation applied by all workers' && l['seq'] === 1 && l['pid'] === dp.pid),
        'and generation 1 was logged before any level changed',
      );
    });
  }

  test('SPOOKY_DP_LOG_LEVEL (like --log-level) pins the level: the generation\'s debug is not taken', async () => {
    const port = await freePort();
    const dp = await startNode('pinned', port, 'debug', [], { SPOOKY_DP_LOG_LEVEL: 'info' });
    await levelsAre(dp, 1, 'info', 1);
    await get(port, 'pinned-r1');
    await dp.proc.waitForLog((l) => l.msg === 'request' && l['requestId'] === 'pinned-r1');
    assert.deepEqual(byId(dp, 'pinned-r1', 'spooky-route'), [], 'no debug line');
  });
});
