/**
 * End to end: `--workers 2` on one host (dataplane/src/bootstrap/primary.ts, supervisor.ts,
 * apply/fleet-applier.ts). One control plane, one data plane with two serving workers, real
 * HTTP/3 over many QUIC connections.
 *
 * - Load: CONNECTIONS QUIC connections, each sending requests one after another for LOAD_MS.
 *   Every request must succeed; both workers must have served (spooky_worker_requests_total
 *   {worker} in the aggregated /metrics); each connection must have stayed on one worker (the
 *   access log's `pid` of every request of that connection: the path names the connection).
 * - A worker killed with SIGKILL is replaced in its slot and the replacement serves the
 *   current generation (seq 2, handed over by the primary, not read from disk).
 * - Measured, printed, not asserted (kernel-dependent): how many connections opened before
 *   the kill still answer once the worker set changed (README "All cores").
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Http3ClientSession } from '@currentspace/http3';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration, DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { connectH3, h3Request } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane } from './harness/planes.ts';
import { bounded } from './harness/spawned-process.ts';

const CONNECTIONS = 16;
const LOAD_MS = 10_000;
const SCOPE = 'workers';

/** Sum of `spooky_worker_requests_total{worker="slot"}` by slot, from the admin /metrics. */
async function perWorker(admin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${admin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^spooky_worker_requests_total\{worker="(\d+)"\} (\d+)$/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

describe('--workers 2', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  let port: number;
  const sessions: Http3ClientSession[] = [];
  /** Connection index → the pid that served it during the load. */
  const homeOf = new Map<number, number>();

  const config = (tag: string) => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: `o-${tag}`, address: h1.url }] } },
  });
  const servedBy = (from: number) => {
    const byConn = new Map<string, Set<number>>();
    for (const l of dp.proc.lines.slice(from)) {
      const m = l.msg === 'request' && typeof l['path'] === 'string' ? /^\/c(\d+)\//.exec(l['path']) : null;
      if (!m) continue;
      const set = byConn.get(m[1] as string) ?? new Set<number>();
      set.add(Number(l['pid']));
      byConn.set(m[1] as string, set);
    }
    return byConn;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-workers-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-workers');
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 500 });
    assert.equal(await cp.pushAndActivate(SCOPE, config('one'), 'workers: first'), 1);
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: 'dp-workers', scope: SCOPE, cacheDir: join(dir, 'cache'), extra: ['--workers', '2'] });
    await dp.proc.waitForLog((l) => l.msg === 'generation applied by all workers' && l['seq'] === 1);
  });

  // Every step bounded (a session to a worker that died, a plane that ignores SIGTERM): the
  // processes are SIGKILLed with what they started (harness/spawned-process.ts).
  after(async () => {
    await Promise.all(sessions.map((s) => bounded(s.close(), 5_000, 'close an HTTP/3 session').catch(() => {})));
    try {
      await dp?.proc.stop();
    } finally {
      await cp?.proc.stop();
      await bounded(h1?.close() ?? Promise.resolve(), 5_000, 'close the origin').catch(() => {});
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every worker applies each generation before the Ack; /generation lists both', async () => {
    const from = dp.proc.lines.length;
    assert.equal(await cp.pushAndActivate(SCOPE, config('two'), 'workers: second'), 2);
    const all = await dp.proc.waitForLog((l) => l.msg === 'generation applied by all workers' && l['seq'] === 2, 20_000, from);
    const applied = dp.proc.lines.slice(from).filter((l) => l.msg === 'generation applied' && l['seq'] === 2).map((l) => l['pid']);
    assert.deepEqual([...applied].sort(), [...(all['workers'] as number[])].sort(), 'one "generation applied" per worker, before the fleet line');
    assert.equal(applied.length, 2);
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving?.seq, 2);
    const workers = (view as unknown as { workers: { slot: number; pid: number; seq: number }[] }).workers;
    assert.deepEqual(workers.map((w) => [w.slot, w.seq]), [[0, 2], [1, 2]]);
  });

  test(`${CONNECTIONS} QUIC connections for ${LOAD_MS / 1000} s: no request fails, both workers serve, each connection stays on one worker`, async (t) => {
    const from = dp.proc.lines.length;
    for (let i = 0; i < CONNECTIONS; i++) sessions.push(await connectH3(port));
    const deadline = Date.now() + LOAD_MS;
    const counts = sessions.map(() => 0);
    const failures: string[] = [];
    await Promise.all(
      sessions.map(async (session, i) => {
        while (Date.now() < deadline && failures.length === 0) {
          try {
            const res = await h3Request(session, port, { path: `/c${i}/r${counts[i]}`, timeoutMs: 10_000 });
            if (res.status !== 200) failures.push(`c${i}: status ${res.status}`);
            counts[i] = (counts[i] as number) + 1;
          } catch (err) {
            failures.push(`c${i}: ${(err as Error).message}`);
          }
        }
      }),
    );
    const total = counts.reduce((a, b) => a + b, 0);
    assert.deepEqual(failures, []);
    assert.ok(counts.every((c) => c > 0), `every connection sent requests: ${counts.join(',')}`);

    const slots = await perWorker(dp.admin);
    t.diagnostic(`workers load: ${total} requests over ${CONNECTIONS} connections in ${LOAD_MS} ms; per worker slot ${JSON.stringify(Object.fromEntries(slots))}`);
    assert.ok((slots.get('0') ?? 0) > 0 && (slots.get('1') ?? 0) > 0, `both workers served: ${JSON.stringify(Object.fromEntries(slots))}`);

    // The access log is written by the worker that served: flushed lines may trail the answers.
    await dp.proc.waitForLog((l) => l.msg === 'request' && l['path'] === `/c${CONNECTIONS - 1}/r${(counts[CONNECTIONS - 1] as number) - 1}`, 10_000, from);
    const byConn = servedBy(from);
    const spread = [...byConn.values()].map((pids) => pids.size);
    const pidsSeen = new Set([...byConn.values()].flatMap((p) => [...p]));
    t.diagnostic(`workers stickiness: ${byConn.size} connections, each served by ${JSON.stringify(spread)} worker(s); ${pidsSeen.size} workers in all`);
    assert.equal(byConn.size, CONNECTIONS);
    assert.ok(spread.every((n) => n === 1), 'a QUIC connection stays on the worker the kernel hashed it to');
    for (const [conn, pids] of byConn) homeOf.set(Number(conn), [...pids][0] as number);
    assert.equal(pidsSeen.size, 2);
  });

  test('a worker killed with SIGKILL is replaced in its slot and serves the current generation; what the change costs old connections', async (t) => {
    const before = await adminGeneration(dp.admin);
    const victim = (before as unknown as { workers: { slot: number; pid: number }[] }).workers[0] as { slot: number; pid: number };
    const from = dp.proc.lines.length;
    process.kill(victim.pid, 'SIGKILL');
    const exited = await dp.proc.waitForLog((l) => l.msg === 'worker exited' && l['workerPid'] === victim.pid, 10_000, from);
    assert.equal(exited['signal'], 'SIGKILL');
    // Before the replacement binds: connections of the survivor go on, the victim's are lost.
    const ask = async (tag: string, timeoutMs: number): Promise<{ home: number; ok: boolean }[]> =>
      Promise.all(
        sessions.map(async (session, i) => {
          const home = homeOf.get(i) ?? -1;
          try {
            return { home, ok: (await h3Request(session, port, { path: `/c${i}/${tag}`, timeoutMs })).status === 200 };
          } catch {
            return { home, ok: false };
          }
        }),
      );
    const summary = (rs: { home: number; ok: boolean }[]) => {
      const survivor = rs.filter((r) => r.home !== victim.pid);
      const lost = rs.filter((r) => r.home === victim.pid);
      return `survivor's connections ${survivor.filter((r) => r.ok).length}/${survivor.length} answered, the killed worker's ${lost.filter((r) => r.ok).length}/${lost.length}`;
    };
    const gap = dp.proc.lines.slice(from).some((l) => l.msg === 'worker joined') ? null : await ask('after-kill', 1_000);
    const gapJoined = dp.proc.lines.slice(from).some((l) => l.msg === 'worker joined');
    if (gap !== null) t.diagnostic(`workers restart, before the replacement joined${gapJoined ? ' (it joined meanwhile)' : ''}: ${summary(gap)}`);

    const joined = await dp.proc.waitForLog((l) => l.msg === 'worker joined' && l['slot'] === victim.slot && l['workerPid'] !== victim.pid, 20_000, from);
    const replacement = Number(joined['workerPid']);
    assert.equal(joined['seq'], 2, 'joined on the current generation');
    const applied = dp.proc.lines.slice(from).find((l) => l.msg === 'generation applied' && l['pid'] === replacement);
    assert.equal(applied?.['seq'], 2);
    assert.equal(applied?.['source'], 'control-plane', 'handed over by the primary, not read from the disk cache');
    const view = await adminGeneration(dp.admin);
    const workers = (view as unknown as { workers: { slot: number; pid: number; seq: number }[] }).workers;
    assert.deepEqual(workers.map((w) => w.seq), [2, 2]);
    assert.ok(workers.some((w) => w.pid === replacement));

    // Old connections once the replacement's sockets joined the SO_REUSEPORT group.
    t.diagnostic(`workers restart, after the replacement joined: ${summary(await ask('after-join', 3_000))}`);

    // New connections are spread over both workers again, the replacement included.
    const freshFrom = dp.proc.lines.length;
    const fresh: Http3ClientSession[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) fresh.push(await connectH3(port));
      const statuses = await Promise.all(fresh.map((s, i) => h3Request(s, port, { path: `/n${i}/`, timeoutMs: 10_000 }).then((r) => r.status)));
      assert.deepEqual(statuses, fresh.map(() => 200));
    } finally {
      await Promise.all(fresh.map((s) => bounded(s.close(), 5_000, 'close an HTTP/3 session').catch(() => {})));
    }
    await dp.proc.waitForLog((l) => l.msg === 'request' && typeof l['path'] === 'string' && l['path'].startsWith('/n') && l['pid'] === replacement, 10_000, freshFrom);
    assert.equal((await fetch(`${dp.admin}/ready`, { signal: AbortSignal.timeout(10_000) })).status, 200);
  });
});
