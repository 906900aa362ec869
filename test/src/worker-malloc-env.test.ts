/**
 * The serving worker's environment as the kernel holds it (/proc/<pid>/environ): the
 * supervisor adds the glibc malloc setting that lets a worker's RSS come back after load
 * (dataplane/src/runtime/worker-malloc-env.ts), unless the user set their own or opted out.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';

/** The environment of a live process, as a map. */
function environOf(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return env;
}

describe('the malloc environment a serving worker gets', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  const running: DataPlane[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-worker-env-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    h1 = await startH1Origin('origin-h1');
  });

  after(async () => {
    for (const dp of running) await dp.proc.stop();
    await h1?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (tag: string, env: NodeJS.ProcessEnv): Promise<{ dp: DataPlane; port: number }> => {
    const port = await freePort();
    const file = join(dir, `${tag}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
        upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: `o-${tag}`, address: h1.url }] } },
      }),
    );
    const dp = await DataPlane.start({ config: file, env });
    running.push(dp);
    await dp.proc.waitForLog((l) => l.msg === 'generation applied');
    return { dp, port };
  };

  test('by default the worker, not the primary, runs with a fixed 32 KiB mmap threshold, and serves', async () => {
    const { dp, port } = await start('default', { MALLOC_MMAP_THRESHOLD_: undefined, SPOOKY_WORKER_MALLOC: undefined });
    assert.notEqual(dp.workerPid, dp.pid);
    assert.equal(environOf(dp.workerPid).get('MALLOC_MMAP_THRESHOLD_'), '32768');
    assert.equal(environOf(dp.pid).get('MALLOC_MMAP_THRESHOLD_'), undefined, 'the primary environment is left as given');
    assert.equal((await h3Fetch(port, { path: '/x' })).status, 200);
  });

  test("the user's own threshold is kept, and SPOOKY_WORKER_MALLOC=0 adds none", async () => {
    const own = await start('own', { MALLOC_MMAP_THRESHOLD_: '131072' });
    assert.equal(environOf(own.dp.workerPid).get('MALLOC_MMAP_THRESHOLD_'), '131072');
    const off = await start('off', { MALLOC_MMAP_THRESHOLD_: undefined, SPOOKY_WORKER_MALLOC: '0' });
    assert.equal(environOf(off.dp.workerPid).get('MALLOC_MMAP_THRESHOLD_'), undefined);
    assert.equal((await h3Fetch(off.port, { path: '/x' })).status, 200);
  });
});
