/**
 * Fuzz of the REST request bodies, headers and query strings of every route that takes a body
 * (the mutating ones plus validate and diff/behaviour), with inject() against a real store.
 * Properties: never a 5xx; every 4xx is problem+json whose status matches and whose issues
 * carry JSON Pointers; nothing changes (active pointer, generations, audit) unless the answer
 * is 2xx, the active pointer moves only on a 200 from PUT active or rollback, and a rollout
 * policy version is stored only on a 200 from PUT rollout-policy. The staged-rollout bodies
 * (strategy, policy, abort_live, operator actions, unfreeze) run against a FakeRolloutControl
 * whose rollouts are part of the state that must not change without a 2xx.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../testing/fuzz-runs.ts';
import { type ApiKit, MINIMAL_YAML, startApiKit } from './api-test-kit.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { FakeRolloutControl } from './fake-rollout-control.ts';

const ROUTES = [
  { method: 'PUT', url: '/v1/scopes/default/active', valid: { seq: 1, dryRun: true } },
  { method: 'POST', url: '/v1/scopes/default/rollback', valid: { to: 'previous' } },
  { method: 'POST', url: '/v1/scopes/default/generations', valid: null },
  { method: 'POST', url: '/v1/scopes/default/validate', valid: null },
  { method: 'POST', url: '/v1/scopes/default/diff/behaviour', valid: { to: 1, requests: [{ method: 'GET', host: 'h', path: '/' }] } },
  { method: 'PUT', url: '/v1/scopes/default/rollout-policy', valid: {} },
  { method: 'PUT', url: '/v1/scopes/default/active', valid: { seq: 2, strategy: 'staged', policy: {}, abort_live: false } },
  { method: 'POST', url: '/v1/scopes/default/rollback', valid: { to: 'lkg', abort_live: true } },
  { method: 'POST', url: '/v1/rollouts/ro-0001/pause', valid: { reason: 'fuzz' } },
  { method: 'POST', url: '/v1/rollouts/ro-0001/abort', valid: {} },
  { method: 'POST', url: '/v1/scopes/default/unfreeze', valid: { reason: 'fuzz' } },
] as const;

const visible = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 "-_:/*{}[],.;=\\'.split('')), maxLength: 40 });
const key = fc.oneof(
  fc.constantFrom('seq', 'dryRun', 'force', 'to', 'from', 'requests', 'extra', 'stages', 'canary', 'freeze_after', 'strategy', 'policy', 'abort_live', 'reason'),
  visible,
);

const body = (valid: unknown) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    valid === null
      ? fc.constantFrom(MINIMAL_YAML, JSON.stringify({ version: 1 }), '{"listen": [', '&a [*a, *a]')
      : fc.tuple(key, fc.jsonValue({ maxDepth: 3 })).map(([k, v]) => JSON.stringify({ ...(valid as object), [k]: v })),
    visible,
    fc.constant(''),
  );

const headers = fc.record({
  contentType: fc.constantFrom('application/json', 'application/yaml', 'text/plain', 'application/json; charset=utf-8', ''),
  token: fc.oneof({ arbitrary: fc.constant('admin-token'), weight: 6 }, fc.constantFrom('reader-token', 'eu-token', 'wrong', '')),
  reason: fc.option(visible.map((r) => `r${r}`), { nil: undefined, freq: 6 }),
  ifMatch: fc.option(fc.oneof({ arbitrary: fc.constantFrom('"0"', '"1"', '"2"', '*', 'W/"1"'), weight: 4 }, visible), { nil: undefined, freq: 6 }),
  idempotencyKey: fc.option(visible, { nil: undefined }),
});

const input = fc.integer({ min: 0, max: ROUTES.length - 1 }).chain((r) =>
  fc.record({ route: fc.constant(r), body: body(ROUTES[r]?.valid ?? null), headers, query: fc.option(visible, { nil: undefined }) }),
);

describe('REST bodies under fuzz', () => {
  let kit: ApiKit;
  const rollouts = new FakeRolloutControl();
  before(async () => {
    // Failed authentications are part of the input; the throttle must not hide the properties.
    const generous = { burst: 1e9, perSecond: 1e9 };
    // Staged by default, with one live rollout (ro-0001): the staged routes and the live guard are reached.
    rollouts.defaults.set('default', 'staged');
    kit = startApiKit({ rollouts, authThrottle: new AuthThrottle({ perAddress: generous, perToken: generous, global: generous, maxKeys: 10 }) });
    for (const port of [7001, 7002]) {
      const res = await kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/generations',
        headers: { authorization: 'Bearer admin-token', 'spooky-change-reason': 'seed', 'content-type': 'application/yaml' },
        body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
      });
      assert.equal(res.statusCode, 201);
    }
    rollouts.start({ scope: 'default', seq: 2, actor: 'seed' });
  });
  after(() => kit.close());

  const snapshot = () => {
    const db = kit.store.db;
    const one = (sql: string) => JSON.stringify(db.prepare(sql).all());
    return {
      active: one('SELECT * FROM active'),
      generations: one('SELECT scope, seq, digest FROM generations ORDER BY scope, seq'),
      audit: one('SELECT count(*) AS n FROM audit'),
      policies: one('SELECT scope, version FROM rollout_policies ORDER BY scope, version'),
      rollouts: JSON.stringify(rollouts.list('default', 100)),
    };
  };

  it('never answers 5xx, answers 4xx as problem+json, changes nothing unless 2xx', async (t) => {
    const runs = fuzzRuns(300);
    let inputs = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(input, async ({ route: r, body: payload, headers: h, query }) => {
        const route = ROUTES[r];
        assert.ok(route);
        inputs++;
        const before = snapshot();
        const started = performance.now();
        const res = await kit.app.inject({
          method: route.method,
          url: query === undefined ? route.url : `${route.url}?${encodeURIComponent(query)}`,
          headers: {
            ...(h.contentType === '' ? {} : { 'content-type': h.contentType }),
            ...(h.token === '' ? {} : { authorization: `Bearer ${h.token}` }),
            ...(h.reason === undefined ? {} : { 'spooky-change-reason': h.reason }),
            ...(h.ifMatch === undefined ? {} : { 'if-match': h.ifMatch }),
            ...(h.idempotencyKey === undefined ? {} : { 'idempotency-key': h.idempotencyKey }),
          },
          payload,
        });
        assert.ok(performance.now() - started < 5000, 'each input answers within 5 s');
        assert.ok(res.statusCode < 500, `${route.method} ${route.url} → ${res.statusCode} ${res.body.slice(0, 300)}`);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const after = snapshot();
        if (res.statusCode >= 400) {
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
          const problem = res.json() as { status: number; code: string; issues?: { pointer: string }[] };
          assert.equal(problem.status, res.statusCode);
          assert.equal(typeof problem.code, 'string');
          for (const issue of problem.issues ?? []) assert.match(issue.pointer, /^(\/.*)?$/, 'issue pointers are JSON Pointers');
          if (res.statusCode === 400 && problem.code === 'invalid_request' && /body is invalid/.test(res.body)) {
            assert.ok((problem.issues ?? []).length > 0, 'a refused body names its field');
          }
        }
        if (res.statusCode < 200 || res.statusCode >= 300) assert.deepEqual(after, before, 'no state change without 2xx');
        if (after.active !== before.active) {
          assert.equal(res.statusCode, 200);
          assert.ok(route.url.endsWith('/active') || route.url.endsWith('/rollback'));
          const dryRun = (() => {
            try {
              return (JSON.parse(payload) as { dryRun?: unknown }).dryRun === true;
            } catch {
              return false;
            }
          })();
          assert.ok(!dryRun, 'a dry run never moves the pointer');
        }
        if (after.policies !== before.policies) {
          assert.equal(res.statusCode, 200);
          assert.ok(route.url.endsWith('/rollout-policy'), 'only PUT rollout-policy stores a policy version');
        }
      }),
      { numRuns: runs },
    );
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    t.diagnostic(`fuzz rest-bodies: ${inputs} inputs, 0 failures`);
    console.log(`fuzz rest-bodies: ${inputs} inputs, 0 failures`);
  });
});
