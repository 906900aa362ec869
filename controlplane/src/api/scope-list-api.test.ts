/**
 * GET /v1/scopes through the real buildApi over the real store: every scope that has a
 * generation or a node, by name, with its active pointer, LKG, live rollout, freeze and node
 * counts by state; filtered to the token's scopes; node counts only with fleet:read; 403
 * without config:read. The live rollout comes from a FakeRolloutControl (the real service
 * needs a converged fleet to start one, covered by its own tests).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashToken } from '../auth/token-authenticator.ts';
import { helloFacts } from '../testing/node-facts.ts';
import { type ApiKit, KIT_TOKENS, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';
import { FakeRolloutControl } from './fake-rollout-control.ts';

interface ScopeItem {
  readonly scope: string;
  readonly active: { seq: number; digest: string; version: number; activatedAt: string; actor: string } | null;
  readonly lkgSeq: number | null;
  readonly rollout: { id: string; targetSeq: number; status: string; stage: number; stages: number; stageName: string | null } | null;
  readonly frozen: boolean;
  readonly nodes: { total: number; connected: number; stale: number; disconnected: number; converged: number; nacking: number } | null;
}

describe('GET /v1/scopes', () => {
  let dir: string;
  let kit: ApiKit;
  const rollouts = new FakeRolloutControl();
  const refs = new Map<string, { scope: string; seq: number; digest: string }>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-scopes-'));
    const tokensFile = join(dir, 'tokens.json');
    const configOnly = { name: 'config-only', sha256: hashToken('config-token'), permissions: ['config:read'], scopes: ['*'] };
    const fleetOnly = { name: 'fleet-only', sha256: hashToken('fleet-token'), permissions: ['fleet:read'], scopes: ['*'] };
    writeFileSync(tokensFile, JSON.stringify({ tokens: [...KIT_TOKENS, configOnly, fleetOnly] }));
    kit = startApiKit({ tokensFile, dir, rollouts });
    for (const [scope, port] of [['prod-eu', 7301], ['default', 7302], ['default', 7303]] as const) {
      const res = await kit.app.inject({
        method: 'POST',
        url: `/v1/scopes/${scope}/generations`,
        headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
        body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
      });
      assert.equal(res.statusCode, 201, res.body);
      const g = res.json() as { seq: number; digest: string };
      refs.set(`${scope}/${g.seq}`, { scope, seq: g.seq, digest: g.digest });
    }
    const act = await kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { 'if-match': '"0"' }),
      payload: { seq: 1 },
    });
    assert.equal(act.statusCode, 200, act.body);
    const g1 = refs.get('default/1')!;
    kit.recorder.connected(helloFacts('a', { serving: g1, source: 'control-plane' }));
    kit.recorder.acked('a', 'a-boot', g1, new Date());
    kit.recorder.connected(helloFacts('b', { serving: null }));
    kit.recorder.disconnected('b', 'b-boot', new Date());
    // A node of a scope that has no generation yet.
    kit.recorder.connected(helloFacts('c', { scope: 'staging' }));
    rollouts.start({ scope: 'default', seq: 2, actor: 'admin' });
    rollouts.freeze('prod-eu');
  });
  after(async () => {
    await kit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const list = async (token: string): Promise<{ status: number; items: ScopeItem[] }> => {
    const res = await kit.app.inject({ method: 'GET', url: '/v1/scopes', headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, items: res.statusCode === 200 ? (res.json() as { items: ScopeItem[] }).items : [] };
  };

  it('every scope with a generation or a node, by name, with pointer, LKG, rollout, freeze and node counts', async () => {
    const { status, items } = await list('admin-token');
    assert.equal(status, 200);
    assert.deepEqual(items.map((i) => i.scope), ['default', 'prod-eu', 'staging']);
    const [def, eu, staging] = items as [ScopeItem, ScopeItem, ScopeItem];
    assert.deepEqual([def.active?.seq, def.active?.version, def.active?.actor, def.active?.digest], [1, 1, 'admin', refs.get('default/1')?.digest]);
    assert.equal(def.lkgSeq, 1, 'node a serves seq 1: LKG');
    assert.deepEqual(def.rollout && [def.rollout.targetSeq, def.rollout.status, def.rollout.stage, def.rollout.stages >= 1], [2, 'running', 1, true]);
    assert.match(def.rollout?.id ?? '', /\S/);
    assert.equal(def.frozen, false);
    assert.deepEqual(def.nodes, { total: 2, connected: 1, stale: 0, disconnected: 1, converged: 1, nacking: 0 });
    assert.deepEqual([eu.active, eu.lkgSeq, eu.rollout, eu.frozen], [null, null, null, true]);
    assert.equal(eu.nodes?.total, 0);
    assert.deepEqual([staging.active, staging.nodes?.connected], [null, 1]);
  });

  it('only the scopes the token may access', async () => {
    assert.deepEqual((await list('eu-token')).items.map((i) => i.scope), ['prod-eu']);
  });

  it('node counts need fleet:read too; the list needs config:read', async () => {
    const configOnly = await list('config-token');
    assert.equal(configOnly.status, 200);
    assert.ok(configOnly.items.length === 3 && configOnly.items.every((i) => i.nodes === null));
    assert.equal(configOnly.items[0]?.active?.seq, 1);
    assert.equal((await list('fleet-token')).status, 403);
    assert.equal((await kit.app.inject({ method: 'GET', url: '/v1/scopes' })).statusCode, 401);
  });

  it('the route does not shadow the per-scope routes', async () => {
    const res = await kit.app.inject({ method: 'GET', url: '/v1/scopes/default/active', headers: { authorization: 'Bearer reader-token' } });
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as { seq: number }).seq, 1);
  });
});
