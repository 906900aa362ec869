/**
 * issue 11, CI rough edges: `--wait --min-nodes N` / `--require-nodes` and the rollback a CI job
 * retries. A real control plane, a real data plane and spookyctl as a child process (no TTY,
 * token from SPOOKY_TOKEN). The tests run in order and build on each other:
 *   seq 1 with no node (warning; --min-nodes 1 → 6) → a node joins → seq 2 with --min-nodes 1
 *   (0) → seq 3 with --min-nodes 2 / a missing --require-nodes node (6) → rollback twice with
 *   the same reason (moved once: 3 → 2) → another reason goes further back (2 → 1, never 3)
 *   → the first rollback's key replayed after the pointer moved on (4).
 * Waits that must fail use short --timeout values: the failure is decided by the fleet's
 * shape (one node), not by a race.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';

const SPOOKYCTL = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'cli', 'spookyctl.ts');
const SCOPE = 'ci-roll';
const NODE = 'dp-roll';

interface CtlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface ActiveBody {
  readonly seq: number | null;
  readonly version: number;
}

describe('spookyctl --wait --min-nodes/--require-nodes and idempotent rollback', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let cp: ControlPlane;
  let dp: DataPlane | undefined;
  let port: number;

  function ctl(args: string[]): Promise<CtlRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SPOOKYCTL, ...args], {
        env: { ...process.env, SPOOKY_SERVER: cp.http, SPOOKY_TOKEN: cp.token, SPOOKY_SCOPE: SCOPE },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  async function expectExit(args: string[], code: number): Promise<CtlRun> {
    const run = await ctl(args);
    assert.equal(run.code, code, `spookyctl ${args.join(' ')} → ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    assert.ok(!run.stdout.includes(cp.token) && !run.stderr.includes(cp.token), 'the token is never printed');
    return run;
  }

  function configFile(variant: string): string {
    const file = join(dir, `${variant}.yaml`);
    writeFileSync(
      file,
      [
        'version: 1',
        'listen:',
        '  address: 127.0.0.1',
        `  port: ${port}`,
        '  tls:',
        `    cert: ${cert.cert}`,
        `    key: ${cert.key}`,
        'upstream:',
        '  app:',
        '    route:',
        `      path_prefix: /${variant}`,
        '    backends:',
        '      - id: o1',
        `        address: ${origin.url}`,
        '',
      ].join('\n'),
    );
    return file;
  }

  async function active(): Promise<ActiveBody> {
    return (await cp.api<ActiveBody>('GET', `/v1/scopes/${SCOPE}/active`)).body;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-ctl-roll-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('origin-roll');
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 5_000 });
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('no connected node: --wait passes with a warning by default, --min-nodes 1 fails with 6', async () => {
    const plain = await expectExit(['push', configFile('a'), '--reason', 'ci: a', '--activate', '--wait', '--timeout', '5s'], 0);
    assert.match(plain.stdout, /activated seq 1/);
    assert.match(plain.stdout, /^warning: no connected node in scope ci-roll: nothing to wait for, nothing verified/m);
    const strict = await expectExit(['activate', '1', '--reason', 'ci: a', '--wait', '--min-nodes', '1', '--timeout', '1s', '--json'], 6);
    const body = JSON.parse(strict.stdout) as { wait: { outcome: string; shortBy: number; minNodes: number } };
    assert.deepEqual([body.wait.outcome, body.wait.shortBy, body.wait.minNodes], ['timeout', 1, 1]);
  });

  test('one data plane: --min-nodes 1 --require-nodes NODE converges (0)', async () => {
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache') });
    await dp.waitForApplied(1);
    const run = await expectExit(
      ['push', configFile('b'), '--reason', 'ci: b', '--activate', '--wait', '--min-nodes', '1', '--require-nodes', NODE, '--timeout', '30s'],
      0,
    );
    assert.match(run.stdout, /activated seq 2/);
    assert.match(run.stdout, /converged: 1 node\(s\) serve seq 2/);
    assert.doesNotMatch(run.stdout, /warning/);
  });

  test('one data plane: --min-nodes 2 or a required node that is not there fails with 6, though the node serves it', async () => {
    const two = await expectExit(['push', configFile('c'), '--reason', 'ci: c', '--activate', '--wait', '--min-nodes', '2', '--timeout', '1s'], 6);
    assert.match(two.stdout, /activated seq 3/);
    assert.match(two.stdout, /timed out after \d+\.\ds: \d node\(s\) serve seq 3, .*--min-nodes 2 needs \d more/);
    await dp!.waitForApplied(3);
    const missing = await expectExit(['activate', '3', '--reason', 'ci: c', '--wait', '--require-nodes', `${NODE},dp-absent`, '--timeout', '1s', '--json'], 6);
    const body = JSON.parse(missing.stdout) as { wait: { outcome: string; converged: string[]; missing: string[] } };
    assert.deepEqual(body.wait, { ...body.wait, outcome: 'timeout', converged: [NODE], missing: ['dp-absent'] });
  });

  test('a retried rollback (same reason, so the same default Idempotency-Key) moves the pointer once', async () => {
    const args = ['rollback', '--to', 'previous', '--reason', 'ci: job 7 failed', '--wait', '--timeout', '30s'];
    const first = await expectExit(args, 0);
    assert.match(first.stdout, /rolled back to seq 2 .*active version 4/);
    assert.match(first.stdout, /converged: 1 node\(s\) serve seq 2/);
    const retried = await expectExit(args, 0);
    assert.match(retried.stdout, /already rolled back to seq 2 .*active version 4, by an earlier run with the same Idempotency-Key; nothing moved/);
    assert.match(retried.stdout, /converged: 1 node\(s\) serve seq 2/);
    const json = JSON.parse((await expectExit([...args, '--json'], 0)).stdout) as { moved: boolean; replayed: boolean };
    assert.deepEqual([json.moved, json.replayed], [false, true]);
    assert.deepEqual(await active(), { ...(await active()), seq: 2, version: 4 });
  });

  test('a new rollback --to previous goes further back (2 → 1), never back to the rolled-back-from 3', async () => {
    const run = await expectExit(['rollback', '--to', 'previous', '--reason', 'ci: job 8 failed', '--wait', '--timeout', '30s'], 0);
    assert.match(run.stdout, /rolled back to seq 1 .*active version 5/);
    const none = await expectExit(['rollback', '--to', 'previous', '--reason', 'ci: job 9 failed'], 4);
    assert.match(none.stderr, /no earlier active generation that was not rolled back from/);
    assert.equal((await active()).seq, 1);
  });

  test('replaying the first rollback after the pointer moved on is refused (4), and moves nothing', async () => {
    const stale = await expectExit(['rollback', '--to', 'previous', '--reason', 'ci: job 7 failed'], 4);
    assert.match(stale.stderr, /already ran \(to seq 2, active version 4\), but the active pointer moved since \(now seq 1, version 5\); nothing moved/);
    assert.deepEqual(await active(), { ...(await active()), seq: 1, version: 5 });
  });
});
