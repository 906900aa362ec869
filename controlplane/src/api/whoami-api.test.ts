/**
 * GET /v1/whoami through the real buildApi and guard: any valid token may ask (401 without
 * one, no permission needed), the answer names the token and what it was granted, never the
 * secret nor its hash, and each action's verdict follows the one action table the routes
 * declare their permissions from — checked here by doing each refused action and getting 403,
 * and each allowed one getting past the guard.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACTION_PERMISSIONS } from '../auth/action-permissions.ts';
import { type ApiKit, ROLLOUT_TOKENS, rolloutKit, writeHeaders } from './api-test-kit.ts';

interface Verdict {
  readonly allowed: boolean;
  readonly needs: readonly string[];
  readonly reason: string | null;
}
interface Whoami {
  readonly name: string;
  readonly permissions: string[];
  readonly scopes: string[];
  readonly expiresAt: string | null;
  readonly scope: string | null;
  readonly scopeAccess: boolean | null;
  readonly actions: Record<string, Verdict>;
}

describe('GET /v1/whoami', () => {
  let dir: string;
  let kit: ApiKit;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-whoami-'));
    kit = await rolloutKit(dir);
  });
  after(async () => {
    await kit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const whoami = async (token: string, query = ''): Promise<{ status: number; body: Whoami; text: string }> => {
    const res = await kit.app.inject({ method: 'GET', url: `/v1/whoami${query}`, headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, body: res.json() as Whoami, text: res.body };
  };

  it('401 without a valid token; any valid token may ask', async () => {
    assert.equal((await kit.app.inject({ method: 'GET', url: '/v1/whoami' })).statusCode, 401);
    assert.equal((await whoami('nope')).status, 401);
    assert.equal((await whoami('roller-token')).status, 200);
  });

  it('names the token and its grants, never the secret or its hash', async () => {
    const { body, text } = await whoami('reader-token');
    assert.equal(body.name, 'reader');
    assert.deepEqual(body.permissions, ['config:read', 'fleet:read']);
    assert.deepEqual(body.scopes, ['*']);
    assert.equal(body.expiresAt, null);
    assert.equal(body.scope, null);
    assert.equal(body.scopeAccess, null);
    assert.ok(!text.includes('reader-token'), 'no secret');
    const hash = ROLLOUT_TOKENS.find((t) => t.name === 'reader')?.sha256 ?? '';
    assert.ok(hash !== '' && !text.includes(hash), 'no hash');
  });

  it('a read-only token: reads allowed, every change refused with its reason', async () => {
    const { body } = await whoami('reader-token', '?scope=default');
    assert.equal(body.scopeAccess, true);
    assert.deepEqual(Object.keys(body.actions).sort(), Object.keys(ACTION_PERMISSIONS).sort());
    assert.deepEqual(body.actions['config.read'], { allowed: true, needs: ['config:read'], reason: null });
    assert.equal(body.actions['fleet.read']?.allowed, true);
    for (const action of ['activate', 'rollback', 'rollout.pause', 'rollout.abort', 'rollout.promote', 'generation.create']) {
      const v = body.actions[action];
      assert.equal(v?.allowed, false, action);
      assert.match(v?.reason ?? '', /^the token lacks permission config:/, action);
    }
    assert.equal(body.actions['rollout.abort']?.reason, 'the token lacks permission config:activate or config:rollback');
  });

  it('admin may do everything; a token limited to prod-eu may do nothing in default', async () => {
    const admin = (await whoami('admin-token', '?scope=default')).body;
    assert.ok(Object.values(admin.actions).every((v) => v.allowed && v.reason === null));
    const eu = (await whoami('eu-token', '?scope=default')).body;
    assert.equal(eu.scopeAccess, false);
    assert.ok(Object.values(eu.actions).every((v) => !v.allowed && v.reason === 'the token may not access scope default'));
    const euHome = (await whoami('eu-token', '?scope=prod-eu')).body;
    assert.equal(euHome.scopeAccess, true);
    assert.equal(euHome.actions['rollback']?.allowed, true);
  });

  it('400 for a malformed scope name or an unknown query key', async () => {
    assert.equal((await whoami('admin-token', '?scope=Bad_Scope')).status, 400);
    assert.equal((await whoami('admin-token', '?other=1')).status, 400);
  });

  it('the verdicts agree with the routes: a refused rollback is 403, an allowed one passes the guard', async () => {
    const roller = (await whoami('roller-token', '?scope=default')).body;
    assert.equal(roller.actions['rollback']?.allowed, true);
    assert.equal(roller.actions['activate']?.allowed, false);
    assert.equal(roller.actions['rollout.abort']?.allowed, true, 'abort needs activate or rollback');
    const rollback = (token: string) =>
      kit.app.inject({ method: 'POST', url: '/v1/scopes/default/rollback', headers: writeHeaders(token), payload: { to: 'previous' } });
    assert.equal((await rollback('reader-token')).statusCode, 403);
    // Past the guard: nothing is active in `default`, so the use case answers, not the guard.
    const allowed = await rollback('roller-token');
    assert.notEqual(allowed.statusCode, 403, allowed.body);
    assert.notEqual(allowed.statusCode, 401, allowed.body);
    const activate = await kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('roller-token', { 'if-match': '"0"' }),
      payload: { seq: 1 },
    });
    assert.equal(activate.statusCode, 403);
    const pause = await kit.app.inject({ method: 'POST', url: '/v1/rollouts/r-nope/pause', headers: writeHeaders('reader-token') });
    assert.equal(pause.statusCode, 403, 'rollout.pause refused as the verdict says');
  });
});
