import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { canonicalJson, digest, parseConfigText } from '@spooky/config';
import { EXIT } from '../exit-codes.ts';
import { runCli } from '../run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MINIMAL = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'config', 'examples', 'minimal.yaml'), 'utf8');
/** Nothing listens on port 1: a command that tried the network would fail with exit 1. */
const NO_SERVER = { SPOOKY_SERVER: 'http://127.0.0.1:1', SPOOKY_TOKEN: undefined };

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function ctl(argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(argv, NO_SERVER, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('lint and validate --offline accept a valid config with the digest the server computes, no server or token', async () => {
  const path = file('ok.yaml', MINIMAL);
  const parsed = parseConfigText(MINIMAL, 'yaml');
  assert.ok(parsed.ok);
  const expected = digest(canonicalJson(parsed.config));
  for (const argv of [['lint', path], ['validate', path, '--offline']]) {
    const human = await ctl(argv);
    assert.equal(human.code, EXIT.ok, human.err);
    assert.equal(human.out, `${path} is valid: ${expected} (${Buffer.byteLength(canonicalJson(parsed.config))} bytes)\n`);
    const json = await ctl([...argv, '--json']);
    assert.equal(json.code, EXIT.ok);
    const body = JSON.parse(json.out) as Record<string, unknown>;
    assert.deepEqual(
      { valid: body['valid'], issues: body['issues'], digest: body['digest'], diff: body['diff'], offline: body['offline'] },
      { valid: true, issues: [], digest: expected, diff: null, offline: true },
    );
  }
});

test('a schema-invalid config → 3 with "pointer: message (code)" lines, and {valid: false, issues} as JSON', async () => {
  const path = file('bad.yaml', `${MINIMAL}bogus: 1\n`);
  const human = await ctl(['lint', path]);
  assert.equal(human.code, EXIT.invalid);
  assert.match(human.out, /is invalid \(1 issue\(s\)\):\n {2}\/bogus: .+ \(\S+\)\n$/);
  const json = await ctl(['validate', '--offline', path, '--json']);
  assert.equal(json.code, EXIT.invalid);
  const body = JSON.parse(json.out) as { valid: boolean; issues: { pointer: string }[]; digest: unknown };
  assert.equal(body.valid, false);
  assert.equal(body.digest, null);
  assert.deepEqual(
    body.issues.map((i) => i.pointer),
    ['/bogus'],
  );
});

test('a YAML syntax error → 3 with line, column, key and the nearest pointer, in the {valid, issues} shape', async () => {
  const path = file('broken.yaml', MINIMAL.replace('      path_prefix: /\n', '      path_prefix: /\n      path_prefix: /x\n'));
  const json = await ctl(['lint', path, '--json']);
  assert.equal(json.code, EXIT.invalid);
  const body = JSON.parse(json.out) as { valid: boolean; issues: { pointer: string; code: string; message: string }[] };
  assert.equal(body.valid, false);
  assert.equal(body.issues.length, 1);
  assert.equal(body.issues[0]?.pointer, '/upstream/app/route/path_prefix');
  assert.equal(body.issues[0]?.code, 'config.syntax');
  assert.match(body.issues[0]?.message ?? '', /^invalid YAML at line 14, column 7 \(key "path_prefix"\): Map keys must be unique/);
  const human = await ctl(['lint', path]);
  assert.match(human.out, /^ {2}\/upstream\/app\/route\/path_prefix: invalid YAML at line 14/m);
});

test('a JSON file is parsed as JSON; an unreadable file is exit 1; usage errors stay usage errors', async () => {
  const config = {
    version: 1,
    listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'a', address: 'http://127.0.0.1:8080' }] } },
  };
  const json = file('ok.json', JSON.stringify(config));
  assert.equal((await ctl(['lint', json])).code, EXIT.ok);
  const badJson = await ctl(['lint', file('bad.json', '{"version": 1,'), '--json']);
  assert.equal(badJson.code, EXIT.invalid);
  assert.match((JSON.parse(badJson.out) as { issues: { message: string }[] }).issues[0]?.message ?? '', /^invalid JSON/);
  const missing = await ctl(['lint', join(dir, 'missing.yaml'), '--json']);
  assert.equal(missing.code, EXIT.error);
  assert.equal((JSON.parse(missing.out) as { error: { code: string } }).error.code, 'file_unreadable');
  const usage = await ctl(['lint']);
  assert.equal(usage.code, EXIT.error);
  assert.match(usage.err, /lint takes one FILE/);
});
