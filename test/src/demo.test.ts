/**
 * The demo as the README runs it: scripts/demo.ts (state in a temp dir via SPOOKY_DEMO_DIR) makes
 * its dev PKI, starts the planes with REST over TLS and gRPC over mutual TLS, and prints a banner;
 * the banner's `export SPOOKY_SERVER=… SPOOKY_CA_FILE=… SPOOKY_TOKEN=…` line and its spookyctl
 * status command then work as printed. The demo uses its fixed ports (18080, 18090, 9889, …): a
 * demo already running on this machine makes this test fail at start-up.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'spooky-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the demo starts secured and its printed spookyctl status works as printed', async () => {
  const child = spawn(process.execPath, [join(root, 'scripts', 'demo.ts')], {
    cwd: root,
    env: { ...process.env, SPOOKY_DEMO_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in 90 s; stderr: ${err}`)), 90_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('Fleet view')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => reject(new Error(`demo exited ${code} before its banner; stderr: ${err}`)));
    });
    assert.match(out, new RegExp(`pid ${child.pid};`));
    const exportLine = out.match(/export (SPOOKY_SERVER=\S+) (SPOOKY_CA_FILE=\S+) (SPOOKY_TOKEN=\S+)/);
    assert.ok(exportLine, 'banner prints the export line');
    const env: Record<string, string> = { ...process.env } as Record<string, string>;
    for (const pair of exportLine.slice(1)) {
      const [k, v] = pair.split('=') as [string, string];
      env[k] = v;
    }
    assert.match(env['SPOOKY_SERVER'] ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    const status = out.match(/^ {2}(\S+) (controlplane\/src\/cli\/spookyctl\.ts) status$/m);
    assert.ok(status, 'banner prints the status command');
    const run = await promisify(execFile)(process.execPath, [status[2] as string, 'status'], { cwd: root, env, timeout: 30_000 });
    assert.match(run.stdout, /nodes: 1 \(1 connected/);
  } finally {
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref())]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 0);
  }
});
