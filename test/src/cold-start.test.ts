/**
 * End to end: a data plane booting while its control plane is unreachable (CONTROL-PLANE.md
 * "gRPC ConfigSync", rule 8). A first data plane applies a generation from a real control plane
 * and writes its disk cache; later data planes point at a closed port and must serve that
 * cache only when it is intact, of their scope and young enough — else serve nothing (503) and
 * say why on /generation.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { adminGeneration, adminReadyStatus, DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane } from './harness/planes.ts';

const SCOPE = 'cold';
const CACHE_FILE = 'generation.json';

describe('cold start from the disk cache (control plane unreachable)', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  let port: number;
  /** A loopback port nothing listens on (until the last test starts a control plane there). */
  let closedGrpcPort: number;
  let cpToken: string;
  /** The cache file a real data plane wrote after applying generation 1. */
  let validCacheText: string;
  const running: DataPlane[] = [];
  const controlPlanes: ControlPlane[] = [];

  const cacheDir = (name: string): string => join(dir, 'caches', name);
  const startCold = async (name: string, extra: string[] = []): Promise<DataPlane> => {
    const dp = await DataPlane.start({
      controlPlane: `127.0.0.1:${closedGrpcPort}`,
      nodeId: `dp-${name}`,
      scope: SCOPE,
      cacheDir: cacheDir(name),
      extra: ['--cache-grace-ms', '200', ...extra],
    });
    running.push(dp);
    return dp;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-cold-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-h1');
    port = await freePort();
    closedGrpcPort = await freePort();
    const cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 200 });
    controlPlanes.push(cp);
    cpToken = cp.token;
    const config = {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
      upstream: { one: { route: { path_prefix: '/' }, backends: [{ id: 'o1', address: h1.url }] } },
    };
    assert.equal(await cp.pushAndActivate(SCOPE, config, 'cold start: the generation to cache'), 1);

    const warm = await DataPlane.start({ controlPlane: cp.grpc, nodeId: 'dp-warm', scope: SCOPE, cacheDir: cacheDir('warm') });
    running.push(warm);
    await warm.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 1 && l['source'] === 'control-plane');
    await warm.proc.waitForLog((l) => l.msg === 'generation cached' && l['seq'] === 1);
    assert.equal(await warm.proc.stop(), 0);
    await cp.proc.stop();
    validCacheText = readFileSync(join(cacheDir('warm'), CACHE_FILE), 'utf8');
  });

  after(async () => {
    for (const dp of running) await dp.proc.stop();
    for (const cp of controlPlanes) await cp.proc.stop();
    await h1?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a valid cache is served over HTTP/3 with source disk-cache; a control plane that comes back takes over', async () => {
    mkdirSync(cacheDir('valid'), { recursive: true });
    cpSync(join(cacheDir('warm'), CACHE_FILE), join(cacheDir('valid'), CACHE_FILE));
    const dp = await startCold('valid');
    const applied = await dp.proc.waitForLog((l) => l.msg === 'generation applied');
    assert.equal(applied['source'], 'disk-cache');
    assert.equal(applied['seq'], 1);

    const res = await h3Fetch(port, { path: '/from-cache' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-origin'], 'origin-h1');
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving?.source, 'disk-cache');
    assert.equal(view.serving?.seq, 1);
    assert.equal(view.reason, undefined);
    assert.equal(await adminReadyStatus(dp.admin), 200);

    // The control plane comes back on the address the node dials: it pushes the same generation
    // once so the node adopts it (source control-plane, cache rewritten with a fresh savedAt).
    const cp = await ControlPlane.start(join(dir, 'cp'), { grpc: `127.0.0.1:${closedGrpcPort}`, token: cpToken, reportIntervalMs: 200 });
    controlPlanes.push(cp);
    const hello = await cp.proc.waitForLog((l) => l.msg === 'distribution: node connected' && l['nodeId'] === 'dp-valid');
    assert.equal(hello['source'], 'disk-cache', 'the Hello says where the served generation came from');
    assert.equal(hello['servingSeq'], 1);
    await dp.proc.waitForLog((l) => l.msg === 'generation applied' && l['source'] === 'control-plane' && l['seq'] === 1);
    await dp.proc.waitForLog((l) => l.msg === 'generation cached' && l['seq'] === 1);
    assert.equal((await adminGeneration(dp.admin)).serving?.source, 'control-plane');
    const again = await h3Fetch(port, { path: '/after-adoption' });
    assert.equal(again.status, 200);
    await cp.proc.stop();
    assert.equal(await dp.proc.stop(), 0);
  });

  test('a stale cache (older than --cache-max-age) is not served: 503 and the reason', async () => {
    const file = JSON.parse(validCacheText) as Record<string, unknown>;
    assert.deepEqual(Object.keys(file).sort(), ['digest', 'format', 'payload', 'savedAt', 'scope', 'seq']);
    mkdirSync(cacheDir('stale'), { recursive: true });
    const old = new Date(Date.now() - 3_600_000).toISOString();
    writeFileSync(join(cacheDir('stale'), CACHE_FILE), JSON.stringify({ ...file, savedAt: old }));

    const dp = await startCold('stale', ['--cache-max-age', '1s']);
    const refused = await dp.proc.waitForLog((l) => l.msg === 'disk cache not served');
    assert.equal(refused['code'], 'cache.stale');
    assert.equal(await adminReadyStatus(dp.admin), 503);
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving, null);
    assert.match(view.reason ?? '', /^cache\.stale: .*older than the max age 1s/);
    assert.ok(existsSync(join(cacheDir('stale'), CACHE_FILE)), 'a stale file stays for the next push to replace');
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'generation applied').length, 0);
  });

  test('a truncated cache is quarantined, never half-loaded: 503 and the reason', async () => {
    mkdirSync(cacheDir('truncated'), { recursive: true });
    const half = validCacheText.slice(0, Math.floor(validCacheText.length / 2));
    writeFileSync(join(cacheDir('truncated'), CACHE_FILE), half);

    const dp = await startCold('truncated');
    const refused = await dp.proc.waitForLog((l) => l.msg === 'disk cache not served');
    assert.equal(refused['code'], 'cache.corrupt');
    const quarantinedTo = String(refused['quarantinedTo']);
    assert.ok(quarantinedTo.startsWith(join(cacheDir('truncated'), 'quarantine', `${CACHE_FILE}.`)), quarantinedTo);
    assert.equal(readFileSync(quarantinedTo, 'utf8'), half);
    assert.equal(existsSync(join(cacheDir('truncated'), CACHE_FILE)), false, 'the file was moved');
    assert.deepEqual(readdirSync(join(cacheDir('truncated'), 'quarantine')).length, 1);
    assert.equal(await adminReadyStatus(dp.admin), 503);
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving, null);
    assert.match(view.reason ?? '', /^cache\.corrupt: not valid JSON .*moved to .*quarantine/);
    assert.equal(dp.proc.lines.filter((l) => l.msg === 'generation applied' || l.msg === 'generation rejected').length, 0);
  });

  test('no cache at all: nothing served, 503 and the reason', async () => {
    const dp = await startCold('empty');
    const refused = await dp.proc.waitForLog((l) => l.msg === 'disk cache not served');
    assert.equal(refused['code'], 'cache.missing');
    assert.equal(await adminReadyStatus(dp.admin), 503);
    const view = await adminGeneration(dp.admin);
    assert.equal(view.serving, null);
    assert.match(view.reason ?? '', /^cache\.missing: no cached generation at /);
  });
});
