import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ApiKit, startApiKit } from '../api/api-test-kit.ts';
import { canAccessScope, scopeMatches } from './permissions.ts';
import { hashToken, TokenAuthenticator } from './token-authenticator.ts';
import { createToken, listTokens, revokeToken } from './token-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('tokens file', () => {
  it('creates hashed entries atomically, lists them without secrets, revokes by name', () => {
    const file = join(dir, 'a.json');
    const token = createToken(file, { name: 'ci', permissions: ['config:read'], scopes: ['prod-*'] });
    assert.match(token, /^spk_[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(token), 'only the hash is written');
    assert.ok(text.includes(hashToken(token)));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['a.json'], 'no temp file left behind');

    createToken(file, { name: 'ops', permissions: ['admin'], scopes: ['*'], expiresAt: '2030-01-01T00:00:00Z' });
    const listed = listTokens(file);
    for (const t of listed) assert.ok(t.createdAt !== null && Math.abs(Date.parse(t.createdAt) - Date.now()) < 60_000, 'createdAt is now');
    assert.deepEqual(
      listed.map((t) => ({ ...t, createdAt: null })),
      [
        { name: 'ci', permissions: ['config:read'], scopes: ['prod-*'], expiresAt: null, createdAt: null },
        { name: 'ops', permissions: ['admin'], scopes: ['*'], expiresAt: '2030-01-01T00:00:00.000Z', createdAt: null },
      ],
    );
    assert.ok(!JSON.stringify(listed).includes(hashToken(token)), 'list never carries the hash');
    assert.throws(() => createToken(file, { name: 'ci', permissions: ['admin'], scopes: ['*'] }), { code: 'token_exists' });
    assert.throws(() => createToken(file, { name: 'x', permissions: ['root' as never], scopes: ['*'] }), { code: 'invalid_request' });
    assert.throws(() => createToken(file, { name: 'x', permissions: ['admin'], scopes: ['Bad_Scope'] }), { code: 'invalid_request' });
    assert.throws(() => createToken(file, { name: 'x', permissions: ['admin'], scopes: ['*'], expiresAt: 'soon' }), {
      code: 'invalid_request',
    });

    assert.equal(revokeToken(file, 'ci'), true);
    assert.equal(revokeToken(file, 'ci'), false);
    assert.deepEqual(
      listTokens(file).map((t) => t.name),
      ['ops'],
    );
    assert.deepEqual(listTokens(join(dir, 'missing.json')), []);
  });

  it('refuses expired tokens and matches scope patterns', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const auth = TokenAuthenticator.fromJson(
      JSON.stringify({
        tokens: [{ name: 't', sha256: hashToken('s'), permissions: ['admin'], scopes: ['prod-*', 'staging'], expiresAt: '2026-01-02T00:00:00Z' }],
      }),
      { now: () => now },
    );
    const principal = auth.authenticate('Bearer s');
    assert.ok(principal);
    assert.equal(canAccessScope(principal, 'prod-eu'), true);
    assert.equal(canAccessScope(principal, 'staging'), true);
    assert.equal(canAccessScope(principal, 'prod'), false);
    assert.equal(canAccessScope(principal, 'default'), false);
    now = Date.parse('2026-01-02T00:00:00Z');
    assert.equal(auth.authenticate('Bearer s'), null);
    assert.equal(scopeMatches('*-eu', 'prod-eu'), true);
    assert.equal(scopeMatches('p*d-*', 'prod-eu'), true);
    assert.equal(scopeMatches('prod-*-x', 'prod-x'), false);
    assert.throws(
      () =>
        TokenAuthenticator.fromJson(
          JSON.stringify({ tokens: [{ name: 't', sha256: hashToken('s'), permissions: [], scopes: ['*'], expiresAt: 'nope' }] }),
        ),
      { code: 'tokens_invalid', message: /expiresAt/ },
    );
  });
});

describe('token revocation and expiry through the API, without restart', () => {
  const file = join(dir, 'live.json');
  let kit: ApiKit;
  let nowMs = Date.parse('2026-05-01T00:00:00Z');
  after(() => kit.close());

  it('picks up created, revoked and expired tokens from the file', async () => {
    writeFileSync(file, JSON.stringify({ tokens: [] }), { mode: 0o600 });
    kit = startApiKit({ tokensFile: file, now: () => new Date(nowMs) });
    const get = (token: string) => kit.app.inject({ url: '/v1/scopes/prod-eu/active', headers: { authorization: `Bearer ${token}` } });

    const token = createToken(file, { name: 'ci', permissions: ['config:read'], scopes: ['prod-*'] });
    assert.equal((await get(token)).statusCode, 200);
    const outside = await kit.app.inject({ url: '/v1/scopes/default/active', headers: { authorization: `Bearer ${token}` } });
    assert.equal(outside.statusCode, 403);

    assert.equal(revokeToken(file, 'ci'), true);
    assert.equal((await get(token)).statusCode, 401);

    const shortLived = createToken(file, { name: 'tmp', permissions: ['config:read'], scopes: ['*'], expiresAt: new Date(nowMs + 60_000) });
    assert.equal((await get(shortLived)).statusCode, 200);
    nowMs += 60_000;
    assert.equal((await get(shortLived)).statusCode, 401);

    const kept = createToken(file, { name: 'kept', permissions: ['config:read'], scopes: ['*'] });
    assert.equal((await get(kept)).statusCode, 200);
    writeFileSync(file, '{ broken');
    assert.equal((await get(kept)).statusCode, 200, 'a file that fails to load keeps the previous tokens in force');
  });
});
