/**
 * The idle memory release in a real data plane (dataplane/src/runtime/idle-memory.ts): after a
 * burst of HTTP/3 requests and five quiet seconds the serving worker runs its last-resort GC
 * once ("idle memory released" at debug level), and it serves again afterwards. A data plane
 * with `SPOOKY_IDLE_GC=0`, given the same burst at the same time, logs no such line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';

const RELEASED = 'idle memory released';

describe('idle memory release in a serving worker', () => {
  let dir: string;
  let cert: CertFiles;
  let h1: Origin;
  const running: DataPlane[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-idle-memory-'));
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
    const dp = await DataPlane.start({ config: file, env, extra: ['--log-level', 'debug'] });
    running.push(dp);
    await dp.proc.waitForLog((l) => l.msg === 'generation applied');
    return { dp, port };
  };

  /** 3 s of requests, 8 one-shot connections at a time: well above the 10 % busy threshold. */
  const burst = async (port: number): Promise<number> => {
    const until = performance.now() + 3000;
    let ok = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < until) if ((await h3Fetch(port, { path: '/burst' })).status === 200) ok++;
      }),
    );
    return ok;
  };

  test('after a burst and five quiet seconds the worker releases once and serves; with SPOOKY_IDLE_GC=0 it does not', async () => {
    // Both at once, same burst, same quiet: the enabled worker's release is the moment to look at the other.
    const [on, off] = await Promise.all([start('on', { SPOOKY_IDLE_GC: undefined }), start('off', { SPOOKY_IDLE_GC: '0' })]);
    const fromOn = on.dp.proc.lines.length;
    const fromOff = off.dp.proc.lines.length;
    const [okOn, okOff] = await Promise.all([burst(on.port), burst(off.port)]);
    assert.ok(okOn > 0 && okOff > 0);
    // Five quiet seconds after the burst, plus margin for a loaded machine.
    const released = await on.dp.proc.waitForLog((l) => l.msg === RELEASED && l['pid'] === on.dp.workerPid, 20_000, fromOn);
    assert.equal(typeof released['ms'], 'number');
    assert.equal(on.dp.proc.lines.slice(fromOn).filter((l) => l.msg === RELEASED && l['pid'] === on.dp.workerPid).length, 1, 'once, not per second');
    assert.equal(off.dp.proc.lines.slice(fromOff).filter((l) => l.msg === RELEASED).length, 0);
    assert.equal((await h3Fetch(on.port, { path: '/after' })).status, 200);
    assert.equal((await h3Fetch(off.port, { path: '/after' })).status, 200);
  });
});
