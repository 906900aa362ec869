import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashToken } from '../../auth/token-authenticator.ts';
import { runCli } from '../run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-token-cmds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** spookyctl in process with a captured stdout/stderr. */
async function ctl(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {}, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

describe('spookyctl tokens', () => {
  it('create prints the secret exactly once (human and --json); the file keeps only its hash', async () => {
    const file = join(dir, 'create.json');
    const human = await ctl(['tokens', 'create', '--name', 'ci', '--permissions', 'config:read', '--scopes', 'prod', '--file', file]);
    assert.equal(human.code, 0, human.err);
    const secret = /spk_[A-Za-z0-9_-]{43}/.exec(human.out)?.[0];
    assert.ok(secret, human.out);
    assert.equal(occurrences(human.out + human.err, secret), 1);
    const json = await ctl(['tokens', 'create', '--name', 'deploy', '--permissions', 'config:read', '--scopes', 'prod', '--file', file, '--json']);
    assert.equal(json.code, 0, json.err);
    const { token } = JSON.parse(json.out) as { token: string };
    assert.equal(occurrences(json.out + json.err, token), 1);
    const stored = readFileSync(file, 'utf8');
    for (const t of [secret, token]) {
      assert.ok(!stored.includes(t));
      assert.ok(stored.includes(hashToken(t)));
    }
    const listed = await ctl(['tokens', 'list', '--file', file, '--json']);
    for (const t of [secret, token]) assert.equal(occurrences(listed.out, t), 0, 'list never shows a secret');
  });

  it('list: name, permissions, scopes, expiry (flagged when past) and creation; never the hash', async () => {
    const file = join(dir, 'list.json');
    const legacyHash = hashToken('legacy-secret');
    writeFileSync(
      file,
      JSON.stringify({
        tokens: [{ name: 'legacy', sha256: legacyHash, permissions: ['admin'], scopes: ['*'], expiresAt: '2020-01-01T00:00:00Z' }],
      }),
    );
    assert.equal((await ctl(['tokens', 'create', '--name', 'ci', '--permissions', 'config:read,fleet:read', '--scopes', 'prod,staging', '--expires', '2099-01-01T00:00:00Z', '--file', file])).code, 0);
    const json = await ctl(['tokens', 'list', '--file', file, '--json']);
    assert.equal(json.code, 0, json.err);
    const doc = JSON.parse(json.out) as { file: string; tokens: Record<string, unknown>[] };
    assert.equal(doc.file, file);
    assert.deepEqual(doc.tokens[0], { name: 'legacy', permissions: ['admin'], scopes: ['*'], expiresAt: '2020-01-01T00:00:00Z', createdAt: null, expired: true });
    const ci = doc.tokens[1]!;
    assert.deepEqual(Object.keys(ci).sort(), ['createdAt', 'expired', 'expiresAt', 'name', 'permissions', 'scopes']);
    assert.deepEqual([ci['name'], ci['permissions'], ci['scopes'], ci['expiresAt'], ci['expired']], ['ci', ['config:read', 'fleet:read'], ['prod', 'staging'], '2099-01-01T00:00:00.000Z', false]);
    assert.match(String(ci['createdAt']), /^\d{4}-\d{2}-\d{2}T/);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { tokens: { sha256: string }[] };
    const human = await ctl(['tokens', 'list', '--file', file]);
    assert.equal(human.code, 0);
    for (const t of stored.tokens) {
      assert.ok(!json.out.includes(t.sha256) && !human.out.includes(t.sha256), 'no hash shown');
    }
    const lines = human.out.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+PERMISSIONS\s+SCOPES\s+EXPIRES\s+CREATED$/);
    assert.match(lines[1]!, /^legacy\s+admin\s+\*\s+2020-01-01T00:00:00Z \(expired\)\s+-$/);
    assert.match(lines[2]!, /^ci\s+config:read,fleet:read\s+prod,staging\s+2099-01-01T00:00:00\.000Z\s+\d{4}-/);
  });

  it('list: a missing or invalid file is exit 1 with the file named', async () => {
    const missing = await ctl(['tokens', 'list', '--file', join(dir, 'nope.json'), '--json']);
    assert.equal(missing.code, 1);
    assert.equal((JSON.parse(missing.out) as { error: { code: string } }).error.code, 'tokens_file');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"tokens": [{"name": "x"}]}');
    const invalid = await ctl(['tokens', 'list', '--file', bad]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /tokens file .*bad\.json/);
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '{"tokens": []}');
    assert.match((await ctl(['tokens', 'list', '--file', empty])).out, /^no tokens in /);
  });
});
