/**
 * End to end: the in-node canary's crash window (docs/rollout.md §5) with a real data plane
 * process (`--no-supervise`, so SIGKILL ends everything that listens), real origins over
 * HTTP/3, a real disk cache, and an in-test ConfigSync server (a fake control plane built from
 * @spooky/proto's service definition, dataplane/src/testing/fake-config-sync.ts).
 *
 *  - hold N+1 beside N, SIGKILL, restart within the window → serves N (a real request reaches
 *    N's origin) and NACKs N+1 after the first Hello (phase canary, canary.crashed); a re-push
 *    of N+1 as a candidate gets the same NACK;
 *  - hold N+1, clean stop (SIGTERM, drain), restart → no NACK: a re-push is held again (ACK);
 *  - with `--workers 2`: a worker SIGKILLed within the window → its replacement serves N, the
 *    candidate is dropped on all and NACKed (canary.crashed);
 *  - with `--workers 2`: hold N+1 on both workers, Promote → every request reaches N+1's origin
 *    and the disk cache now holds N+1 (the promoted one, never the candidate before).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canonicalJson, digest, parseConfig } from '@spooky/config';
import type { FromDataPlane, Nack } from '@spooky/proto';
import { CANDIDATE_FILE } from '../../dataplane/src/cache/apply-journal.ts';
import { type FakeConfigSync, pushOf, startFakeConfigSync, wireCanary } from '../../dataplane/src/testing/fake-config-sync.ts';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';

const SCOPE = 'canary';

function generation(seq: number, port: number, cert: CertFiles, origin: Origin) {
  const parsed = parseConfig({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'o', address: origin.url }] } },
  });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  const payload = Buffer.from(canonicalJson(parsed.config));
  return { ref: { scope: SCOPE, seq, digest: digest(payload) }, payload };
}

/** Messages of the stream(s) of boot `bootId`: from its first Hello on. */
function ofBoot(received: readonly FromDataPlane[], bootId: string): FromDataPlane[] {
  const at = received.findIndex((m) => m.msg?.$case === 'hello' && m.msg.value.bootId === bootId);
  return at < 0 ? [] : received.slice(at);
}
const nacks = (r: readonly FromDataPlane[]): Nack[] => r.flatMap((m) => (m.msg?.$case === 'nack' ? [m.msg.value] : []));
const acked = (r: readonly FromDataPlane[], nonce: string, candidate: boolean): boolean =>
  r.some((m) => m.msg?.$case === 'ack' && m.msg.value.nonce === nonce && m.msg.value.candidate === candidate);

describe('in-node canary: crash window across a restart', () => {
  let dir: string;
  let cert: CertFiles;
  let originN: Origin;
  let originC: Origin;
  let sync: FakeConfigSync;
  let port: number;
  let n: ReturnType<typeof generation>;
  let c: ReturnType<typeof generation>;
  const running: DataPlane[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-canary-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    originN = await startH1Origin('origin-n');
    originC = await startH1Origin('origin-candidate');
    port = await freePort();
    n = generation(1, port, cert, originN);
    c = generation(2, port, cert, originC);
    // The fake control plane serves N to a node that serves nothing.
    sync = await startFakeConfigSync({
      reportIntervalMs: 200,
      onHello: (hello, s) => {
        if (hello.serving === undefined) s.send(pushOf(`serve-${hello.bootId}`, n.ref, n.payload));
      },
    });
  });

  after(async () => {
    for (const dp of running) await dp.proc.kill();
    await sync?.close();
    await originN?.close();
    await originC?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (cacheDir: string, workers: readonly string[] = ['--no-supervise']): Promise<DataPlane> => {
    const dp = await DataPlane.start({
      controlPlane: `127.0.0.1:${sync.port}`,
      nodeId: 'dp-canary',
      scope: SCOPE,
      cacheDir,
      extra: [...workers, '--cache-grace-ms', '200'],
    });
    running.push(dp);
    return dp;
  };

  /** Boots, serves N (cached), holds N+1 with a 60 s crash window. */
  const holdCandidate = async (cacheDir: string, workers?: readonly string[]): Promise<DataPlane> => {
    const dp = await start(cacheDir, workers);
    await sync.until('N acked', (r) => acked(r, `serve-${dp.bootId}`, false));
    await dp.proc.waitForLog((l) => l.msg === 'generation cached' && l['seq'] === 1);
    sync.send(pushOf(`hold-${dp.bootId}`, c.ref, c.payload, wireCanary(50, 60_000)));
    await sync.until('N+1 held', (r) => acked(r, `hold-${dp.bootId}`, true));
    return dp;
  };

  test('SIGKILL within the crash window: the restart serves N and NACKs N+1 (phase canary); a re-push gets the same NACK', async () => {
    const cacheDir = join(dir, 'cache-crash');
    const first = await holdCandidate(cacheDir);
    assert.equal(JSON.parse(readFileSync(join(cacheDir, CANDIDATE_FILE), 'utf8')).cleanStop, false);
    await first.proc.kill();

    const second = await start(cacheDir);
    const fell = await second.proc.waitForLog((l) => l.msg === 'crashed soon after holding a candidate: serving the cached generation');
    assert.equal(fell['digest'], c.ref.digest);
    await second.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 1);
    await sync.until('the canary NACK of the second boot', (r) => nacks(ofBoot(r, second.bootId)).some((x) => x.phase === 'canary'));
    const nack = nacks(ofBoot(sync.received, second.bootId)).find((x) => x.phase === 'canary');
    assert.equal(nack?.rejected?.digest, c.ref.digest);
    assert.equal(nack?.retryable, false);
    assert.equal(nack?.issues[0]?.code, 'canary.crashed');
    assert.match(nack?.issues[0]?.message ?? '', /restarted \d+ ms after holding this candidate, within the crash window of 60000 ms/);

    // A real request is served by N's route.
    const res = await h3Fetch(port, { path: '/after-crash' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-origin'], 'origin-n');

    // The control plane re-asserts the candidate: refused again, never held in this boot.
    sync.send(pushOf('again', c.ref, c.payload, wireCanary(50, 60_000)));
    await sync.until('the NACK of the re-push', (r) => nacks(r).some((x) => x.nonce === 'again'));
    const again = nacks(sync.received).find((x) => x.nonce === 'again');
    assert.equal(again?.phase, 'canary');
    assert.equal(again?.issues[0]?.code, 'canary.crashed');
    assert.equal(second.proc.lines.some((l) => l.msg === 'candidate held'), false);
    assert.equal(await second.proc.stop(), 0);
  });

  test('after a clean stop the restart does not blame the candidate: no NACK, a re-push is held', async () => {
    const cacheDir = join(dir, 'cache-clean');
    const first = await holdCandidate(cacheDir);
    assert.equal(await first.proc.stop(), 0);
    assert.equal(JSON.parse(readFileSync(join(cacheDir, CANDIDATE_FILE), 'utf8')).cleanStop, true);

    const second = await start(cacheDir);
    await second.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 1);
    sync.send(pushOf(`rehold-${second.bootId}`, c.ref, c.payload, wireCanary(50, 60_000)));
    await sync.until('the re-push held', (r) => acked(r, `rehold-${second.bootId}`, true));
    assert.deepEqual(nacks(ofBoot(sync.received, second.bootId)), []);
    assert.equal(second.proc.lines.some((l) => l.msg === 'crashed soon after holding a candidate: serving the cached generation'), false);
    assert.equal(await second.proc.stop(), 0);
  });

  test('--workers 2: the candidate is held by both workers; Promote serves it everywhere and caches it', async () => {
    const cacheDir = join(dir, 'cache-workers');
    const dp = await holdCandidate(cacheDir, ['--workers', '2']);
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'candidate held').length, 2, 'each worker holds it');
    await dp.proc.waitForLog((l) => l.msg === 'candidate held by all workers' && l['seq'] === 2);
    const cachedBefore = JSON.parse(readFileSync(join(cacheDir, 'generation.json'), 'utf8'));
    assert.equal(cachedBefore.seq, 1, 'the held candidate is not cached');

    sync.send({ msg: { $case: 'promote', value: { nonce: `promote-${dp.bootId}`, target: c.ref } } });
    await sync.until('the promote acked', (r) => acked(r, `promote-${dp.bootId}`, false));
    await dp.proc.waitForLog((l) => l.msg === 'generation cached' && l['seq'] === 2);
    assert.equal(JSON.parse(readFileSync(join(cacheDir, 'generation.json'), 'utf8')).seq, 2);
    assert.equal(existsSync(join(cacheDir, CANDIDATE_FILE)), false, 'the crash-window record is cleared');
    // New connections land on either worker: every one serves N+1 now.
    for (let i = 0; i < 6; i++) {
      const res = await h3Fetch(port, { path: `/promoted-${i}` });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-origin'], 'origin-candidate');
    }
    assert.equal(await dp.proc.stop(), 0);
  });

  test('--workers 2: a worker killed within the window drops the candidate on all and NACKs it', async () => {
    const cacheDir = join(dir, 'cache-worker-crash');
    const dp = await holdCandidate(cacheDir, ['--workers', '2']);
    await dp.proc.waitForLog((l) => l.msg === 'candidate held by all workers' && l['seq'] === 2);
    process.kill(dp.workerPid, 'SIGKILL');
    await dp.proc.waitForLog((l) => l.msg === 'worker died within the crash window of the candidate: dropped on all');
    await sync.until('the canary NACK', (r) => nacks(ofBoot(r, dp.bootId)).some((x) => x.phase === 'canary'));
    const nack = nacks(ofBoot(sync.received, dp.bootId)).find((x) => x.phase === 'canary');
    assert.equal(nack?.rejected?.digest, c.ref.digest);
    assert.equal(nack?.nonce, `hold-${dp.bootId}`);
    assert.equal(nack?.issues[0]?.code, 'canary.crashed');
    assert.equal(nack?.stillServing?.digest, n.ref.digest);
    assert.equal(existsSync(join(cacheDir, CANDIDATE_FILE)), false);
    const res = await h3Fetch(port, { path: '/after-worker-crash' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-origin'], 'origin-n');
    assert.equal(await dp.proc.stop(), 0);
  });
});
