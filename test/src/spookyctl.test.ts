/**
 * spookyctl end to end: a real control plane, a real data plane (with a certificate and an
 * HTTP/1.1 origin) and spookyctl run as a child process the way CI runs it (no TTY, stdin
 * closed, token from SPOOKY_TOKEN). Each test checks one outcome's exit code. The tests run in
 * order and build on each other (seq 1 → 2 → 3 → a NACKed 4 → rollback → a 5 nobody answers).
 *
 * Timeout (exit 6) is made deterministic by freezing the data plane with SIGSTOP: it stays
 * `connected` (its stream is open, its reports are only due every 5 s) but cannot apply.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';

const SPOOKYCTL = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'cli', 'spookyctl.ts');
const SCOPE = 'ctl';

interface CtlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('spookyctl against a real control plane and data plane', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let cp: ControlPlane;
  let dp: DataPlane | undefined;
  let port: number;

  /** Runs spookyctl with the admin token and scope from the environment, like a CI job. */
  function ctl(args: string[], env: Record<string, string> = {}): Promise<CtlRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SPOOKYCTL, ...args], {
        env: { ...process.env, SPOOKY_SERVER: cp.http, SPOOKY_TOKEN: cp.token, SPOOKY_SCOPE: SCOPE, ...env },
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

  async function expectExit(args: string[], code: number, env: Record<string, string> = {}): Promise<CtlRun> {
    const run = await ctl(args, env);
    assert.equal(run.code, code, `spookyctl ${args.join(' ')} → ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    assert.ok(!run.stdout.includes(cp.token) && !run.stderr.includes(cp.token), 'the token is never printed');
    return run;
  }

  /** A config file (YAML) for the data plane; `variant` changes the route so the digest differs. */
  function configFile(name: string, variant: string, certPath = cert.cert): string {
    const file = join(dir, name);
    writeFileSync(
      file,
      [
        'version: 1',
        'listen:',
        '  address: 127.0.0.1',
        `  port: ${port}`,
        '  tls:',
        `    cert: ${certPath}`,
        `    key: ${cert.key}`,
        'upstream:',
        '  app:',
        '    route:',
        `      path_prefix: /${variant}`,
        '    backends:',
        `      - id: o1`,
        `        address: ${origin.url}`,
        '',
      ].join('\n'),
    );
    return file;
  }

  async function pushJson(file: string, reason: string): Promise<{ seq: number; digest: string; deduplicated: boolean }> {
    const run = await expectExit(['push', file, '--reason', reason, '--json'], 0);
    return JSON.parse(run.stdout) as { seq: number; digest: string; deduplicated: boolean };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-ctl-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('origin-ctl');
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 5_000 });
  });

  after(async () => {
    if (dp) {
      try {
        process.kill(dp.pid, 'SIGCONT');
      } catch {
        // exited
      }
    }
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('validate: a valid YAML or JSON file → 0; an invalid one → 3 with "pointer: message (code)"', async () => {
    const ok = await expectExit(['validate', configFile('a.yaml', 'a')], 0);
    assert.match(ok.stdout, /is valid: sha256:[0-9a-f]{64}/);
    const json = join(dir, 'a.json');
    writeFileSync(json, JSON.stringify({ version: 1, listen: { port, tls: { cert: cert.cert, key: cert.key } }, upstream: { x: { backends: [{ id: 'b', address: origin.url }] } } }));
    await expectExit(['validate', json], 0);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(configFile('tmp.yaml', 'a'), 'utf8').replace('      - id: o1\n', '      - weight: 0\n') + 'bogus: 1\n');
    const invalid = await expectExit(['validate', bad], 3);
    assert.match(invalid.stdout, /^ {2}\/bogus: .+ \(\S+\)$/m);
    assert.match(invalid.stdout, /^ {2}\/upstream\/app\/backends\/0\S*: .+ \(\S+\)$/m);
    const invalidJson = await expectExit(['validate', bad, '--json'], 3);
    assert.equal((JSON.parse(invalidJson.stdout) as { valid: boolean }).valid, false);

    const unparseable = join(dir, 'broken.yaml');
    writeFileSync(unparseable, 'listen: [\n');
    await expectExit(['validate', unparseable], 3);
    await expectExit(['validate', join(dir, 'missing.yaml')], 1);
  });

  test('plan with nothing active: changes → 2 with --detailed-exitcode, 0 without', async () => {
    const file = configFile('a.yaml', 'a');
    const detailed = await expectExit(['plan', file, '--detailed-exitcode'], 2);
    assert.match(detailed.stdout, /changes pending: nothing active/);
    await expectExit(['plan', file], 0);
  });

  test('a bad token is forbidden (7), for reads and mutations', async () => {
    await expectExit(['status'], 7, { SPOOKY_TOKEN: 'spk_not-a-real-token' });
    const run = await expectExit(['push', configFile('a.yaml', 'a'), '--reason', 'x', '--token', 'nope', '--json'], 7);
    assert.equal((JSON.parse(run.stdout) as { exitCode: number }).exitCode, 7);
  });

  test('push creates seq 1 and prints seq/digest; a CI retry (same file + reason) gives the same generation', async () => {
    const file = configFile('a.yaml', 'a');
    const human = await expectExit(['push', file, '--reason', 'ci: first'], 0);
    assert.match(human.stdout, /created generation seq 1 \(sha256:[0-9a-f]{64}\)/);
    assert.match(human.stdout, /next: spookyctl activate 1/);
    const again = await pushJson(file, 'ci: first');
    assert.equal(again.seq, 1);
    const otherReason = await pushJson(file, 'ci: same content, other reason');
    assert.equal(otherReason.seq, 1);
    assert.equal(otherReason.deduplicated, true);
  });

  test('activate --wait with no connected node succeeds at once with a warning; with --min-nodes 1 it fails (6)', async () => {
    const run = await expectExit(['activate', '1', '--reason', 'first activation', '--wait', '--timeout', '5s'], 0);
    assert.match(run.stdout, /activated seq 1/);
    assert.match(run.stdout, /^warning: no connected node in scope ctl: nothing to wait for, nothing verified \(--min-nodes 1 makes this fail\)$/m);
    const strict = await expectExit(['activate', '1', '--reason', 'first activation', '--wait', '--min-nodes', '1', '--timeout', '1s'], 6);
    assert.match(strict.stdout, /seq 1 is already active/);
    assert.match(strict.stdout, /timed out after \d+\.\ds: 0 node\(s\) serve seq 1, --min-nodes 1 needs 1 more/);
  });

  test('with a data plane serving seq 1, plan of the same file has no changes (0 even with --detailed-exitcode)', async () => {
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: 'dp-ctl', scope: SCOPE, cacheDir: join(dir, 'cache') });
    await dp.waitForApplied(1);
    const run = await expectExit(['plan', configFile('a.yaml', 'a'), '--detailed-exitcode'], 0);
    assert.match(run.stdout, /no changes/);
    await expectExit(['plan', configFile('b.yaml', 'b'), '--detailed-exitcode'], 2);
  });

  test('activate without --wait (0), then activate --wait converges on the data plane (0)', async () => {
    const two = await pushJson(configFile('b.yaml', 'b'), 'ci: route /b');
    assert.equal(two.seq, 2);
    const plain = await expectExit(['activate', '2', '--reason', 'ship /b'], 0);
    assert.match(plain.stdout, /activated seq 2 \(sha256:[0-9a-f]{64}\), active version 2/);
    const three = await pushJson(configFile('c.yaml', 'c'), 'ci: route /c');
    assert.equal(three.seq, 3);
    const waited = await expectExit(['activate', '3', '--reason', 'ship /c', '--wait', '--timeout', '30s', '--json'], 0);
    const body = JSON.parse(waited.stdout) as { target: { seq: number }; moved: boolean; wait: { outcome: string; nodes: string[] } };
    assert.equal(body.target.seq, 3);
    assert.equal(body.moved, true);
    assert.deepEqual(body.wait, { ...body.wait, outcome: 'converged', nodes: ['dp-ctl'] });
    await dp!.waitForApplied(3);
  });

  test('a conflicting If-Match is refused with 412 → 4; --dry-run moves nothing (0)', async () => {
    const stale = await expectExit(['activate', '2', '--reason', 'planned against version 1', '--if-match', '1'], 4);
    assert.match(stale.stderr, /412/);
    const dry = await expectExit(['activate', '2', '--reason', 'just checking', '--dry-run'], 0);
    assert.match(dry.stdout, /dry run/);
    const status = JSON.parse((await expectExit(['status', '--json'], 0)).stdout) as { active: { seq: number } };
    assert.equal(status.active.seq, 3);
  });

  test('activate --wait of a generation the data plane NACKs (cert file missing) → 5 with the node issues', async () => {
    const bad = await pushJson(configFile('d.yaml', 'd', join(dir, 'missing', 'cert.pem')), 'ci: broken cert path');
    assert.equal(bad.seq, 4);
    const run = await expectExit(['activate', '4', '--reason', 'ship broken', '--wait', '--timeout', '30s'], 5);
    assert.match(run.stdout, /rejected: 1 node\(s\) NACKed seq 4/);
    assert.match(run.stdout, /dp-ctl \(phase \S+/);
    assert.match(run.stdout, /\/listeners\/0\/tls\/cert: .*missing.* \(listener\.tls\.unreadable\)/);
  });

  test('rollback --to previous --wait goes back to seq 3 (0)', async () => {
    const run = await expectExit(['rollback', '--to', 'previous', '--reason', 'undo broken cert', '--wait', '--timeout', '30s'], 0);
    assert.match(run.stdout, /rolled back to seq 3/);
    assert.match(run.stdout, /converged: 1 node\(s\) serve seq 3/);
  });

  test('--wait times out (6) while the only connected node cannot answer (frozen with SIGSTOP)', async () => {
    const five = await pushJson(configFile('e.yaml', 'e'), 'ci: route /e');
    assert.equal(five.seq, 5);
    const node = dp!;
    // Freeze the primary (it holds the control-plane session); its workers keep serving.
    process.kill(node.pid, 'SIGSTOP');
    try {
      const run = await expectExit(['activate', '5', '--reason', 'nobody home', '--wait', '--timeout', '1s'], 6);
      assert.match(run.stdout, /timed out after \d+\.\ds: 0 node\(s\) serve seq 5, still waiting for dp-ctl/);
    } finally {
      process.kill(node.pid, 'SIGCONT');
    }
    await node.waitForApplied(5);
    await expectExit(['activate', '5', '--reason', 'already there', '--wait', '--timeout', '30s'], 0);
  });

  test('status, nodes, history and diff are readable by humans and as JSON', async () => {
    const status = await expectExit(['status'], 0);
    assert.match(status.stdout, /scope ctl: active seq 5/);
    const nodes = JSON.parse((await expectExit(['nodes', '--json'], 0)).stdout) as { items: { nodeId: string; serving: { seq: number } }[] };
    assert.equal(nodes.items[0]?.nodeId, 'dp-ctl');
    assert.equal(nodes.items[0]?.serving.seq, 5);
    const history = await expectExit(['history', '--limit', '2'], 0);
    assert.match(history.stdout, /^\* {4}5 {2}sha256:/m);
    assert.match(history.stdout, /older generations exist below seq 4/);
    const diff = await expectExit(['diff', '3', '5', '--json'], 0);
    assert.ok(Array.isArray((JSON.parse(diff.stdout) as { changes: unknown[] }).changes));
    await expectExit(['diff', 'active', '3'], 0);
  });

  test('diff --requests FILE: which sample requests change upstream; --detailed-exitcode 2 only when some do', async () => {
    const gen = async (seq: number) =>
      (await cp.api<{ document: { upstream: { app: { route: { path_prefix: string } } } } }>('GET', `/v1/scopes/ctl/generations/${seq}`)).body.document
        .upstream.app.route.path_prefix;
    const [p3, p5] = [await gen(3), await gen(5)];
    assert.notEqual(p3, p5, 'the fixture generations route different prefixes');
    const samples = join(dir, 'samples.json');
    const requests = [p3, p5, '/elsewhere'].map((path) => ({ method: 'GET', host: 'localhost', path: `${path}/x` }));
    writeFileSync(samples, JSON.stringify({ requests }));
    const run = await expectExit(['diff', '3', '5', '--requests', samples, '--json', '--detailed-exitcode'], 2);
    const results = (JSON.parse(run.stdout) as { results: Array<{ changed: boolean; before: unknown; after: unknown }> }).results;
    assert.equal(results.length, 3);
    assert.deepEqual(results.map((r) => r.changed), [true, true, false]);
    const human = await expectExit(['diff', '3', '5', '--requests', samples], 0);
    assert.match(human.stdout, /2 of 3 sample request\(s\) change upstream/);
    await expectExit(['diff', 'active', 'active', '--requests', samples, '--detailed-exitcode'], 0);
    writeFileSync(join(dir, 'bad-samples.json'), '{"nope": 1}');
    await expectExit(['diff', '3', '5', '--requests', join(dir, 'bad-samples.json')], 1);
  });

  test('audit verify: the hash chain of everything above is intact (0)', async () => {
    const run = await expectExit(['audit', 'verify'], 0);
    assert.match(run.stdout, /audit chain intact/);
  });

  test('tokens create prints the token once and stores only its hash; revoke removes it', async () => {
    const file = join(dir, 'ci-tokens.json');
    writeFileSync(file, JSON.stringify({ tokens: [] }));
    const created = await expectExit(
      ['tokens', 'create', '--name', 'ci', '--permissions', 'config:read,config:write', '--scopes', SCOPE, '--expires', '2027-01-01T00:00:00Z', '--file', file, '--json'],
      0,
    );
    const { token } = JSON.parse(created.stdout) as { token: string };
    assert.ok(token.length >= 20);
    const stored = readFileSync(file, 'utf8');
    assert.ok(!stored.includes(token), 'the file never holds the token itself');
    assert.ok(stored.includes(createHash('sha256').update(token).digest('hex')));
    await expectExit(['tokens', 'create', '--name', 'bad', '--permissions', 'root', '--scopes', '*', '--file', file], 1);
    await expectExit(['tokens', 'revoke', '--name', 'ci', '--file', file], 0);
    assert.ok(!readFileSync(file, 'utf8').includes('"ci"'));
    assert.ok(existsSync(file));
  });

  test('a token created in the control plane tokens file works once reloaded; lacking a permission is forbidden (7)', async () => {
    const file = join(cp.dir, 'tokens.json');
    const created = await expectExit(['tokens', 'create', '--name', 'reader', '--permissions', 'config:read', '--scopes', SCOPE, '--file', file, '--json'], 0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    // The control plane reloads the file when it changes: poll a real condition, bounded.
    const deadline = Date.now() + 15_000;
    let run = await ctl(['history'], { SPOOKY_TOKEN: token });
    while (run.code !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = await ctl(['history'], { SPOOKY_TOKEN: token });
    }
    assert.equal(run.code, 0, run.stderr);
    const forbidden = await ctl(['status'], { SPOOKY_TOKEN: token });
    assert.equal(forbidden.code, 7, forbidden.stderr);
    assert.match(forbidden.stderr, /403/);
    assert.ok(!forbidden.stderr.includes(token));
    await expectExit(['tokens', 'revoke', '--name', 'reader', '--file', file], 0);
  });
});
