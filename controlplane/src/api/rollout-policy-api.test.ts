import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashToken } from '../auth/token-authenticator.ts';
import { DEFAULT_ROLLOUT_POLICY } from '../rollout/rollout-policy.ts';
import { openStore } from '../store/open-store.ts';
import { type ApiKit, KIT_TOKENS, startApiKit, writeHeaders } from './api-test-kit.ts';

const json = { 'content-type': 'application/json' };
const reader = { authorization: 'Bearer reader-token' };
const URL_DEFAULT = '/v1/scopes/default/rollout-policy';

/** Canary nodes 1 min, then everyone; thresholds partly given, the rest defaults. */
const POLICY = {
  stages: [
    { name: 'canary', labels: { role: 'canary' }, soak_ms: 60_000 },
    { name: 'fleet', percent: 100 },
  ],
  gates: { nack_budget: 1, health: { min_requests: 500 } },
};

describe('REST API: rollout policy (storage only)', () => {
  let kit: ApiKit;
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-policy-api-'));
    const tokensFile = join(dir, 'tokens.json');
    const extra = [
      { name: 'policy', sha256: hashToken('policy-token'), permissions: ['rollout:policy', 'config:read'], scopes: ['*'] },
      {
        name: 'deployer',
        sha256: hashToken('deployer-token'),
        permissions: ['config:read', 'config:write', 'config:activate', 'config:rollback'],
        scopes: ['*'],
      },
    ];
    writeFileSync(tokensFile, JSON.stringify({ tokens: [...KIT_TOKENS, ...extra] }));
    kit = startApiKit({ tokensFile, dir });
  });
  after(async () => {
    await kit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url = URL_DEFAULT, headers: Record<string, string> = reader) => kit.app.inject({ url, headers });
  const put = (body: unknown, ifMatch: string | null, token = 'admin-token', url = URL_DEFAULT) =>
    kit.app.inject({
      method: 'PUT',
      url,
      headers: writeHeaders(token, { ...json, ...(ifMatch === null ? {} : { 'if-match': ifMatch }) }),
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers the default policy at version 0 before any is stored', async () => {
    const res = await get();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.etag, '"0"');
    assert.deepEqual(res.json(), {
      scope: 'default',
      version: 0,
      default: true,
      policy: DEFAULT_ROLLOUT_POLICY,
      author: null,
      reason: null,
      createdAt: null,
    });
  });

  it('needs If-Match (428), refuses a stale or unreadable one (412) and stores nothing then', async () => {
    const missing = await put(POLICY, null);
    assert.equal(missing.statusCode, 428);
    assert.equal(missing.json().code, 'precondition_required');
    for (const stale of ['"1"', '"abc"']) {
      const res = await put(POLICY, stale);
      assert.equal(res.statusCode, 412, stale);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().code, 'rollout_policy_changed');
      assert.equal(res.json().currentVersion, 0);
    }
    assert.equal((await get()).headers.etag, '"0"');
  });

  it('answers 422 with every issue as a JSON Pointer, checked before the version', async () => {
    const bad = {
      stages: [
        { name: 'Canary', percent: 0 },
        { name: 'fleet', labels: { role: 'x' } },
      ],
      gates: { ack_timeout_ms: 10, bogus: true },
      canary: { percent: 80 },
    };
    const res = await put(bad, '"7"');
    assert.equal(res.statusCode, 422);
    const problem = res.json();
    assert.equal(problem.code, 'rollout_policy_invalid');
    const pointers = problem.issues.map((i: { pointer: string; code: string }) => `${i.pointer} ${i.code}`);
    for (const expected of [
      '/stages/0/name rollout.pattern',
      '/stages/0/percent rollout.range',
      '/gates/ack_timeout_ms rollout.range',
      '/gates/bogus rollout.unknown_key',
      '/canary/percent rollout.range',
    ]) {
      assert.ok(pointers.includes(expected), `${expected} in ${JSON.stringify(pointers)}`);
    }
    const notObject = await put([1, 2], '"0"');
    assert.equal(notObject.statusCode, 422);
    assert.deepEqual(
      notObject.json().issues.map((i: { pointer: string }) => i.pointer),
      [''],
    );
    assert.equal((await get()).headers.etag, '"0"', 'nothing stored');
  });

  it('stores versions with compare-and-swap: the normalised policy comes back with its ETag, audited', async () => {
    const first = await put(POLICY, '"0"', 'policy-token');
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.headers.etag, '"1"');
    const body = first.json();
    assert.equal(body.version, 1);
    assert.equal(body.default, false);
    assert.equal(body.author, 'policy');
    assert.equal(body.reason, 'test change');
    assert.equal(body.policy.gates.nack_budget, 1);
    assert.equal(body.policy.gates.health.min_requests, 500);
    assert.deepEqual(body.policy.gates.health.p99, DEFAULT_ROLLOUT_POLICY.gates.health.p99, 'defaults filled in');
    assert.deepEqual(body.policy.stages[1], { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 });
    const read = await get();
    assert.equal(read.headers.etag, '"1"');
    assert.deepEqual(read.json(), body);

    const stale = await put({}, '"0"');
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.json().currentVersion, 1);
    const second = await put({}, 'W/"1"');
    assert.equal(second.statusCode, 200);
    assert.equal(second.headers.etag, '"2"');
    assert.deepEqual(second.json().policy, DEFAULT_ROLLOUT_POLICY, 'an empty document is the default policy');

    const audit = (await kit.app.inject({ url: '/v1/audit?scope=default', headers: { authorization: 'Bearer admin-token' } })).json();
    const sets = audit.items.filter((e: { action: string }) => e.action === 'rollout_policy.set');
    assert.equal(sets.length, 2, 'one audit entry per stored version, none for refused writes');
    assert.equal(sets[0].actor, 'policy');
    assert.deepEqual(sets[0].detail, { fromVersion: 0, reason: 'test change', stages: ['canary', 'fleet'], version: 1 });
  });

  it('keeps scopes apart and survives a reopen of the database file', async () => {
    const eu = '/v1/scopes/prod-eu/rollout-policy';
    assert.equal((await get(eu)).json().version, 0);
    assert.equal((await put(POLICY, '"0"', 'eu-token', eu)).statusCode, 200);
    const forbidden = await put(POLICY, '"1"', 'eu-token');
    assert.equal(forbidden.statusCode, 403, 'eu-token may not touch scope default');
    const store = openStore(join(kit.dir, 'cp.db'));
    try {
      assert.equal(store.rollouts.currentPolicy('default')?.version, 2);
      assert.deepEqual(store.rollouts.currentPolicy('prod-eu')?.policy.gates.nack_budget, 1);
    } finally {
      store.close();
    }
  });

  it('guards writes: 401 without a token, 403 without rollout:policy, 400 without a reason', async () => {
    const url = URL_DEFAULT;
    const anonymous = await kit.app.inject({ method: 'PUT', url, headers: { ...json, 'if-match': '"2"' }, payload: '{}' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal((await get(url, {})).statusCode, 401);
    for (const token of ['reader-token', 'deployer-token']) {
      const res = await put({}, '"2"', token);
      assert.equal(res.statusCode, 403, token);
      assert.match(res.json().detail, /rollout:policy/);
    }
    const noReason = await kit.app.inject({
      method: 'PUT',
      url,
      headers: { authorization: 'Bearer admin-token', ...json, 'if-match': '"2"' },
      payload: '{}',
    });
    assert.equal(noReason.statusCode, 400);
    assert.equal(noReason.json().code, 'reason_required');
    assert.equal((await get(url, { authorization: 'Bearer deployer-token' })).statusCode, 200, 'config:read reads it');
    assert.equal((await get()).headers.etag, '"2"', 'nothing stored by refused writes');
  });

  it('replays a PUT with the same Idempotency-Key instead of storing another version', async () => {
    const send = () =>
      kit.app.inject({
        method: 'PUT',
        url: URL_DEFAULT,
        headers: writeHeaders('admin-token', { ...json, 'if-match': '"2"', 'idempotency-key': 'policy-once' }),
        payload: JSON.stringify(POLICY),
      });
    const first = await send();
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers.etag, '"3"');
    const again = await send();
    assert.equal(again.statusCode, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.headers.etag, '"3"');
    assert.equal((await get()).json().version, 3);
  });

  it('refuses bodies that are no JSON (400) or too large for a policy (413)', async () => {
    const broken = await put('{"stages": [', '"3"');
    assert.equal(broken.statusCode, 400);
    const huge = await put({ stages: [{ name: 'fleet', labels: {} }], pad: 'x'.repeat(70_000) }, '"3"');
    assert.equal(huge.statusCode, 413);
    assert.equal((await get()).headers.etag, '"3"');
  });
});
