/**
 * spookyctl's CI rough edges end to end (issue 11): `validate --offline` / `lint` answer exactly
 * like the server's `validate` (same valid, issues, digest, size and exit code) for a valid, a
 * schema-invalid and a syntax-broken file, the server says where a YAML syntax error is (validate
 * and push), `help --json` is JSON, and the package-bin launcher run by an older Node says which
 * Node is needed instead of ERR_UNKNOWN_FILE_EXTENSION. spookyctl runs as a child process through
 * its launcher (controlplane/src/cli/spookyctl.mjs), the way CI runs it; the control plane is real.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControlPlane } from './harness/planes.ts';

const LAUNCHER = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'cli', 'spookyctl.mjs');
const CONTROL_PLANE_LAUNCHER = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'main.mjs');
const MINIMAL = readFileSync(join(import.meta.dirname, '..', '..', 'config', 'examples', 'minimal.yaml'), 'utf8');
const SCOPE = 'lint';
/** An older Node on this machine, if any (the system one; the suite itself runs on Node ≥ 24). */
const OLD_NODE = '/usr/bin/node';
const RUN_TIMEOUT_MS = 30_000;

interface CtlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node LAUNCHER args` with exactly `env` (plus PATH), stdin closed, bounded in time. */
function run(node: string, script: string, args: string[], env: Record<string, string>): Promise<CtlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [script, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The fields the offline answer must share with the server's. */
function comparable(stdout: string): unknown {
  const body = JSON.parse(stdout) as Record<string, unknown>;
  return { valid: body['valid'], issues: body['issues'], digest: body['digest'], sizeBytes: body['sizeBytes'] };
}

function oldNodeMajor(): number | null {
  if (!existsSync(OLD_NODE)) return null;
  const r = spawnSync(OLD_NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  const major = Number(r.stdout.trim());
  return r.status === 0 && Number.isInteger(major) ? major : null;
}

describe('spookyctl validate --offline, lint, help --json and the Node version gate', () => {
  let dir: string;
  let cp: ControlPlane;
  const files: Record<string, string> = {};

  const online = (args: string[]) => run(process.execPath, LAUNCHER, args, { SPOOKY_SERVER: cp.http, SPOOKY_TOKEN: cp.token, SPOOKY_SCOPE: SCOPE });
  /** No server address, no token: an offline command must not need either. */
  const offline = (args: string[]) => run(process.execPath, LAUNCHER, args, { SPOOKY_SERVER: 'http://127.0.0.1:1' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-lint-e2e-'));
    cp = await ControlPlane.start(join(dir, 'cp'));
    const write = (name: string, text: string) => {
      files[name] = join(dir, name);
      writeFileSync(files[name], text);
    };
    write('valid.yaml', MINIMAL);
    write('invalid.yaml', `${MINIMAL.replace('      - id: app-1\n', '      - weight: 0\n')}bogus: 1\n`);
    write('broken.yaml', MINIMAL.replace('      path_prefix: /\n', '      path_prefix: /\n      path_prefix: /x\n'));
    write('valid.json', JSON.stringify({ version: 1, listen: { port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } }, upstream: { a: { backends: [{ id: 'b', address: 'http://127.0.0.1:8080' }] } } }));
  });

  after(async () => {
    await cp?.proc.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('validate --offline and lint answer like the server: same valid, issues, digest, size and exit code', async () => {
    const expectedExit: Record<string, number> = { 'valid.yaml': 0, 'valid.json': 0, 'invalid.yaml': 3, 'broken.yaml': 3 };
    for (const [name, code] of Object.entries(expectedExit)) {
      const path = files[name] as string;
      const server = await online(['validate', path, '--json']);
      assert.equal(server.code, code, `online validate ${name}: ${server.stdout}${server.stderr}`);
      for (const args of [['validate', path, '--offline', '--json'], ['lint', path, '--json']]) {
        const local = await offline(args);
        assert.equal(local.code, code, `${args.join(' ')}: ${local.stdout}${local.stderr}`);
        assert.deepEqual(comparable(local.stdout), comparable(server.stdout), `${args.join(' ')} matches the server`);
      }
      const human = await offline(['lint', path]);
      const serverHuman = await online(['validate', path]);
      assert.equal(human.stdout, serverHuman.stdout, `human output of lint ${name} is the online one`);
    }
  });

  test('the server says where a YAML syntax error is, for validate ({valid, issues}) and push (problem issues)', async () => {
    const path = files['broken.yaml'] as string;
    const validate = await online(['validate', path, '--json']);
    const body = JSON.parse(validate.stdout) as { valid: boolean; issues: { pointer: string; code: string; message: string }[] };
    assert.equal(body.valid, false);
    assert.deepEqual(
      body.issues.map((i) => [i.pointer, i.code]),
      [['/upstream/app/route/path_prefix', 'config.syntax']],
    );
    assert.match(body.issues[0]?.message ?? '', /^invalid YAML at line 14, column 7 \(key "path_prefix"\)/);
    const plan = await online(['plan', path, '--json']);
    assert.equal(plan.code, 3, plan.stdout);
    assert.deepEqual(comparable(plan.stdout), comparable(validate.stdout), 'plan keeps the {valid, issues} shape');
    const push = await online(['push', path, '--reason', 'broken', '--json']);
    assert.equal(push.code, 3, push.stdout);
    const problem = JSON.parse(push.stdout) as { error: { issues: { pointer: string }[] } };
    assert.equal(problem.error.issues[0]?.pointer, '/upstream/app/route/path_prefix');
  });

  test('help --json prints one JSON document with the commands and their options', async () => {
    const help = await offline(['help', '--json']);
    assert.equal(help.code, 0, help.stderr);
    const doc = JSON.parse(help.stdout) as { commands: { name: string; options: { name: string }[] }[]; exitCodes: Record<string, number> };
    const validate = doc.commands.find((c) => c.name === 'validate');
    assert.deepEqual(
      validate?.options.map((o) => o.name),
      ['--offline'],
    );
    assert.ok(doc.commands.some((c) => c.name === 'lint'));
    assert.equal(doc.exitCodes['invalid'], 3);
  });

  test('on Node < 24 the launchers say which Node is needed (exit 1), not ERR_UNKNOWN_FILE_EXTENSION', async (t) => {
    const major = oldNodeMajor();
    if (major === null || major >= 24) {
      t.skip(`no Node older than 24 at ${OLD_NODE} (found ${major === null ? 'none' : `v${major}`})`);
      return;
    }
    const human = await run(OLD_NODE, LAUNCHER, ['lint', files['valid.yaml'] as string], {});
    assert.equal(human.code, 1);
    assert.match(human.stderr, /^error: spookyctl needs Node ≥ 24 \(found v\d+\.\d+\.\d+\)$/m);
    assert.doesNotMatch(human.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
    assert.equal(human.stdout, '');
    const json = await run(OLD_NODE, LAUNCHER, ['help', '--json'], {});
    assert.equal(json.code, 1);
    const body = JSON.parse(json.stdout) as { error: { code: string; message: string }; exitCode: number };
    assert.equal(body.error.code, 'node_version');
    assert.match(body.error.message, new RegExp(`^spookyctl needs Node ≥ 24 \\(found v${major}\\.`));
    assert.equal(body.exitCode, 1);
    const controlPlane = await run(OLD_NODE, CONTROL_PLANE_LAUNCHER, ['--help'], {});
    assert.equal(controlPlane.code, 1);
    assert.match(controlPlane.stderr, /spooky-controlplane needs Node ≥ 24/);
  });
});
