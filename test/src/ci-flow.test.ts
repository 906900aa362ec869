/**
 * issue 11, "Must show": the whole CI flow the README's examples run, against a control plane
 * serving REST over TLS (a test CA) and gRPC over mutual TLS, with one real data plane holding a
 * node certificate and a real origin behind it. spookyctl runs as a child process the way a CI
 * job runs it: no TTY, stdin closed, `SPOOKY_SERVER=https://…`, `SPOOKY_CA_FILE`, and a token
 * made by `spookyctl tokens create` with exactly the permissions the README suggests for CI
 * (read from README.md). The pull-request steps (`validate --offline`, `lint`) run with no server
 * address and no token, as a fork's pull request would.
 *
 * The tests run in order and build on each other:
 *   validate --offline / lint (0; 3 with line and column) → plan (2) → push /v1 --activate --wait
 *   --min-nodes 1 (0, served) → plan (0) → push /v2 (0, served) → a config the node NACKs (5,
 *   /v2 still served) → rollback --to previous (0) and its retry (0, nothing moved) → push /v4
 *   with --min-nodes 2 (6, though served) → rollback --to previous --wait --min-nodes 1 (0, /v2
 *   served again) and its retry (0, nothing moved, pointer unchanged).
 * Every wait is bounded (spookyctl --timeout, the harness's log waits, request timeouts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPlane } from './harness/data-plane.ts';
import { freePort } from './harness/free-port.ts';
import { makeGrpcPki } from './harness/grpc-pki.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { makeCa, makeLeaf, type Pem } from './harness/pki.ts';
import { ControlPlane, writeAdminToken } from './harness/planes.ts';

const SPOOKYCTL = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'cli', 'spookyctl.ts');
const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const SCOPE = 'prod';
const NODE = 'edge-1';
const RUN_TIMEOUT_MS = 60_000;

interface CtlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Active {
  readonly seq: number | null;
  readonly version: number;
}

/** The `--permissions` list of the README's suggested CI token (its "CI usage" examples). */
function readmeCiPermissions(): string {
  const section = README.slice(README.indexOf('## CI usage'));
  const found = /tokens create --name \S+ --permissions (\S+)/.exec(section);
  assert.ok(found?.[1], 'the README suggests a CI token');
  return found[1];
}

/** One GET answered by `https://127.0.0.1:port`, its certificate checked against `ca`; bounded by 10 s. */
function httpsGet(port: number, path: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; origin: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false, headers: { host: `localhost:${port}`, ...headers }, signal: AbortSignal.timeout(10_000) },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body, origin: res.headers['x-origin'] as string | undefined }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('the CI flow over REST TLS and gRPC mTLS (validate --offline → plan → push --wait → failing deploy → rollback)', () => {
  let dir: string;
  let restCa: Pem;
  let listener: Pem;
  let origin: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  let port: number;
  let ciToken: string;
  const outputs: string[] = [];

  /** Runs spookyctl with exactly `env` plus PATH (no SPOOKY_* leaks in from the outer shell), bounded in time. */
  function ctl(args: string[], env: Record<string, string>): Promise<CtlRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SPOOKYCTL, ...args], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: RUN_TIMEOUT_MS,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        outputs.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      });
    });
  }

  async function expectExit(args: string[], code: number, env: Record<string, string>): Promise<CtlRun> {
    const run = await ctl(args, env);
    assert.equal(run.code, code, `spookyctl ${args.join(' ')} → ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    return run;
  }

  /** A deploy job's environment: the https:// server, its CA, the CI token, the scope. */
  const job = (): Record<string, string> => ({ SPOOKY_SERVER: cp.http, SPOOKY_CA_FILE: restCa.cert, SPOOKY_TOKEN: ciToken, SPOOKY_SCOPE: SCOPE });
  /** A fork's pull request: no server, no token, no CA. */
  const fork: Record<string, string> = {};

  /** A config routing `/<variant>` to the origin; `listenerCert` defaults to a readable one. */
  function configFile(variant: string, listenerCert = listener.cert): string {
    const file = join(dir, `${variant}.yaml`);
    writeFileSync(
      file,
      [
        'version: 1',
        'listen:',
        '  address: 127.0.0.1',
        `  port: ${port}`,
        '  tls:',
        `    cert: ${listenerCert}`,
        `    key: ${listener.key}`,
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

  /** The active pointer, read with the admin token over the same TLS (node:https, the test CA). */
  async function active(): Promise<Active> {
    const url = new URL(cp.http);
    const res = await httpsGet(Number(url.port), `/v1/scopes/${SCOPE}/active`, readFileSync(restCa.cert), { authorization: `Bearer ${cp.token}` });
    assert.equal(res.status, 200, res.body);
    return JSON.parse(res.body) as Active;
  }

  /** Asserts the data plane routes `/<variant>` to the origin, and `/<gone>` nowhere (404). */
  async function serves(variant: string, gone: readonly string[]): Promise<void> {
    const ca = readFileSync(restCa.cert);
    const hit = await httpsGet(port, `/${variant}/x`, ca);
    assert.equal(hit.status, 200, `/${variant}/x: ${hit.body}`);
    assert.equal(hit.origin, 'origin-ci');
    assert.equal((JSON.parse(hit.body) as { path: string }).path, `/${variant}/x`);
    for (const g of gone) assert.equal((await httpsGet(port, `/${g}/x`, ca)).status, 404, `/${g} is no longer routed`);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-ci-flow-'));
    const pkiDir = join(dir, 'pki');
    restCa = makeCa(pkiDir, 'rest-ca');
    const rest = makeLeaf(pkiDir, 'rest', 'localhost', 'DNS:localhost,IP:127.0.0.1', restCa);
    listener = makeLeaf(pkiDir, 'listener', 'localhost', 'DNS:localhost,IP:127.0.0.1', restCa);
    const grpc = makeGrpcPki(pkiDir);
    origin = await startH1Origin('origin-ci');
    port = await freePort();

    // The operator's side: an admin token, then the pipeline's token with the README's list.
    const cpDir = join(dir, 'cp');
    const tokensFile = join(cpDir, 'tokens.json');
    mkdirSync(cpDir, { recursive: true });
    const admin = writeAdminToken(tokensFile);
    const created = await expectExit(
      ['tokens', 'create', '--name', 'ci-prod', '--permissions', readmeCiPermissions(), '--scopes', SCOPE, '--expires', '2099-01-01T00:00:00Z', '--file', tokensFile, '--json'],
      0,
      fork,
    );
    ciToken = (JSON.parse(created.stdout) as { token: string }).token;
    // `tokens create` prints the secret once, by contract: the only output allowed to hold it.
    outputs.splice(outputs.indexOf(created.stdout), 1);
    assert.ok(ciToken.length >= 20);

    cp = await ControlPlane.start(cpDir, {
      token: admin,
      reportIntervalMs: 1_000,
      extra: ['--http-tls-cert', rest.cert, '--http-tls-key', rest.key, ...grpc.controlPlaneFlags],
    });
    assert.match(cp.http, /^https:\/\/127\.0\.0\.1:\d+$/);
    dp = await DataPlane.start({
      controlPlane: cp.grpc,
      nodeId: NODE,
      scope: SCOPE,
      cacheDir: join(dir, 'cache'),
      extra: grpc.dataPlaneFlags(grpc.node(NODE, [SCOPE])),
    });
    await dp.proc.waitForLog((l) => l.msg === 'control: session established');
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('pull request (no server, no token): validate --offline and lint → 0 valid, 3 broken with line and column', async () => {
    const good = configFile('v1');
    const valid = await expectExit(['validate', good, '--offline'], 0, fork);
    assert.match(valid.stdout, /is valid: sha256:[0-9a-f]{64}/);
    await expectExit(['lint', good], 0, fork);

    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(good, 'utf8').replace('      path_prefix: /v1\n', '      path_prefix: /v1\n      path_prefix: /v9\n'));
    const offline = await expectExit(['validate', broken, '--offline'], 3, fork);
    assert.match(offline.stdout, /\/upstream\/app\/route\/path_prefix: invalid YAML at line 12, column 7 \(key "path_prefix"\).* \(config\.syntax\)/);
    const lint = await expectExit(['lint', broken, '--json'], 3, fork);
    const body = JSON.parse(lint.stdout) as { valid: boolean; issues: { pointer: string; code: string; message: string }[] };
    assert.equal(body.valid, false);
    assert.deepEqual(body.issues.map((i) => [i.pointer, i.code]), [['/upstream/app/route/path_prefix', 'config.syntax']]);
    assert.match(body.issues[0]?.message ?? '', /line 12, column 7/);
  });

  test('plan --detailed-exitcode with nothing active → 2 (changes pending)', async () => {
    const run = await expectExit(['plan', configFile('v1'), '--detailed-exitcode'], 2, job());
    assert.match(run.stdout, /changes pending: nothing active/);
  });

  test('push --activate --wait --min-nodes 1 → 0; the data plane answers from the new route', async () => {
    const run = await expectExit(['push', configFile('v1'), '--reason', 'ci: v1', '--activate', '--wait', '--min-nodes', '1', '--timeout', '30s'], 0, job());
    assert.match(run.stdout, /activated seq 1/);
    assert.match(run.stdout, /converged: 1 node\(s\) serve seq 1/);
    await serves('v1', []);
    assert.equal((await active()).seq, 1);
  });

  test('plan --detailed-exitcode of the active file → 0 (no changes); of another → 2', async () => {
    const same = await expectExit(['plan', configFile('v1'), '--detailed-exitcode'], 0, job());
    assert.match(same.stdout, /no changes/);
    await expectExit(['plan', configFile('v2'), '--detailed-exitcode'], 2, job());
  });

  test('the next deploy: push /v2 --activate --wait --min-nodes 1 → 0, /v1 no longer routed', async () => {
    const run = await expectExit(['push', configFile('v2'), '--reason', 'ci: v2', '--activate', '--wait', '--min-nodes', '1', '--timeout', '30s'], 0, job());
    assert.match(run.stdout, /activated seq 2/);
    await serves('v2', ['v1']);
  });

  test('a failing deploy the data plane NACKs (listener certificate missing) → 5 with the issue; /v2 keeps serving', async () => {
    const bad = configFile('v3', join(dir, 'missing', 'cert.pem'));
    const run = await expectExit(['push', bad, '--reason', 'ci: v3', '--activate', '--wait', '--min-nodes', '1', '--timeout', '30s'], 5, job());
    assert.match(run.stdout, /activated seq 3/);
    assert.match(run.stdout, /rejected: 1 node\(s\) NACKed seq 3/);
    assert.match(run.stdout, /\/listeners\/0\/tls\/cert: .*\(listener\.tls\.unreadable\)/);
    await serves('v2', ['v1', 'v3']);
    assert.equal((await active()).seq, 3, 'the pointer moved; the fleet refused');
  });

  test('the failure step: rollback --to previous --wait --min-nodes 1 → 0 (seq 2); retried → 0, nothing moved', async () => {
    const args = ['rollback', '--to', 'previous', '--reason', 'rollback: ci v3 run 1', '--wait', '--min-nodes', '1', '--timeout', '30s'];
    const first = await expectExit(args, 0, job());
    assert.match(first.stdout, /rolled back to seq 2 /);
    assert.match(first.stdout, /converged: 1 node\(s\) serve seq 2/);
    const pointer = await active();
    assert.equal(pointer.seq, 2);
    const retried = await expectExit([...args, '--json'], 0, job());
    const body = JSON.parse(retried.stdout) as { moved: boolean; replayed: boolean; target: { seq: number } };
    assert.deepEqual([body.moved, body.replayed, body.target.seq], [false, true, 2]);
    assert.deepEqual(await active(), pointer, 'the retry moved nothing');
    await serves('v2', ['v1', 'v3']);
  });

  test('a failing deploy short of nodes: --min-nodes 2 with one node → 6, though the node serves it', async () => {
    const run = await expectExit(['push', configFile('v4'), '--reason', 'ci: v4', '--activate', '--wait', '--min-nodes', '2', '--timeout', '2s'], 6, job());
    assert.match(run.stdout, /activated seq 4/);
    assert.match(run.stdout, /timed out after \d+\.\ds: \d node\(s\) serve seq 4, .*--min-nodes 2 needs \d more/);
    await dp.waitForApplied(4);
    await serves('v4', ['v2']);
  });

  test('rollback --to previous --wait --min-nodes 1 → 0: the data plane serves seq 2 again; retried → 0, "nothing moved", pointer unchanged', async () => {
    const args = ['rollback', '--to', 'previous', '--reason', 'rollback: ci v4 run 2', '--wait', '--min-nodes', '1', '--timeout', '30s'];
    const first = await expectExit(args, 0, job());
    assert.match(first.stdout, /rolled back to seq 2 /);
    assert.match(first.stdout, /converged: 1 node\(s\) serve seq 2/);
    await serves('v2', ['v4']);
    const pointer = await active();
    assert.equal(pointer.seq, 2);
    const retried = await expectExit(args, 0, job());
    assert.match(retried.stdout, /already rolled back to seq 2 .*by an earlier run with the same Idempotency-Key; nothing moved/);
    assert.match(retried.stdout, /converged: 1 node\(s\) serve seq 2/);
    assert.deepEqual(await active(), pointer, 'the retry moved nothing');
    await serves('v2', ['v4']);
  });

  test('the CI token never appears in any spookyctl output or plane log', () => {
    const logs = [cp.proc, dp.proc].flatMap((p) => [...p.lines.map((l) => JSON.stringify(l)), ...p.stderr]);
    const everything = [...outputs, ...logs].join('\n');
    assert.ok(everything.includes('rolled back to seq 2'), 'the outputs were collected');
    assert.ok(!everything.includes(ciToken), 'the CI token leaked');
    assert.ok(!everything.includes(cp.token), 'the admin token leaked');
  });
});
