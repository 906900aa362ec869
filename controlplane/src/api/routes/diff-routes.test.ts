import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, startApiKit, writeHeaders } from '../api-test-kit.ts';

const json = { 'content-type': 'application/json' };
const reader = { authorization: 'Bearer reader-token' };
const secret = `key-${Math.random().toString(36).slice(2)}`;

const v1 = {
  listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'certs/cert.pem', key: `/keys/${secret}.pem` } },
  upstream: {
    web: { route: { path_prefix: '/' }, backends: [{ id: 'w1', address: 'http://127.0.0.1:8001' }] },
    api: {
      route: { path_prefix: '/api' },
      backends: [
        { id: 'a1', address: 'http://127.0.0.1:8002' },
        { id: 'a2', address: 'http://127.0.0.1:8003' },
      ],
    },
  },
};
// v2: backends reordered (no change), a2 moved, api limited to api.example, a beta route added.
const v2 = {
  ...v1,
  upstream: {
    web: v1.upstream.web,
    api: {
      route: { path_prefix: '/api', host: 'api.example' },
      backends: [
        { id: 'a2', address: 'http://127.0.0.1:9003' },
        { id: 'a1', address: 'http://127.0.0.1:8002' },
      ],
    },
    beta: { route: { path_prefix: '/api', headers: [{ name: 'x-beta', present: true }] }, backends: [{ id: 'b1', address: 'http://127.0.0.1:8004' }] },
  },
};

type ChangeBody = { entity: string; id: string; op: string; path: string };
const brief = (changes: ChangeBody[]) => changes.map((c) => `${c.entity} ${c.id} ${c.op} ${c.path}`);
const V1_TO_V2 = [
  'upstream beta add /upstream/beta',
  'route api add /upstream/api/route/host',
  'backend api/a2 change /upstream/api/backends/0/address',
];

describe('diff API', () => {
  let kit: ApiKit;
  let digests: string[] = [];
  before(async () => {
    kit = startApiKit();
    for (const doc of [v1, v2]) {
      const res = await kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/generations',
        headers: writeHeaders('admin-token', json),
        payload: JSON.stringify(doc),
      });
      assert.equal(res.statusCode, 201, res.body);
      digests = [...digests, res.json().digest];
    }
  });
  after(() => kit.close());

  const getDiff = (query: string, headers: Record<string, string> = reader) =>
    kit.app.inject({ url: `/v1/scopes/default/diff?${query}`, headers });
  const activate = (seq: number, version: number, dryRun = false) =>
    kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { ...json, 'if-match': `"${version}"` }),
      payload: { seq, ...(dryRun ? { dryRun } : {}) },
    });
  const behaviour = (body: unknown, headers: Record<string, string> = reader) =>
    kit.app.inject({ method: 'POST', url: '/v1/scopes/default/diff/behaviour', headers: { ...headers, ...json }, payload: JSON.stringify(body) });

  it('diffs two generations field by field, secrets redacted', async () => {
    const res = await getDiff('from=1&to=2');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body.from, { seq: 1, digest: digests[0] });
    assert.deepEqual(body.to, { seq: 2, digest: digests[1] });
    assert.deepEqual(brief(body.changes), V1_TO_V2);
    assert.deepEqual(body.changes[2], {
      entity: 'backend',
      id: 'api/a2',
      op: 'change',
      path: '/upstream/api/backends/0/address',
      before: 'http://127.0.0.1:8003',
      after: 'http://127.0.0.1:9003',
    });
    assert.deepEqual((await getDiff('from=2&to=2')).json().changes, []);
    const fromNothing = await getDiff('from=active&to=1');
    assert.equal(fromNothing.json().from, null);
    assert.ok(fromNothing.json().changes.some((c: ChangeBody) => c.entity === 'listener' && c.op === 'add'));
    assert.ok(!fromNothing.body.includes(secret), 'listener tls.key is redacted');
  });

  it('answers 404 for an unknown seq, 400 for bad selectors, 401 / 403 without access', async () => {
    assert.equal((await getDiff('from=1&to=9')).statusCode, 404);
    assert.equal((await getDiff('from=1&to=9')).json().code, 'generation_not_found');
    assert.equal((await getDiff('from=latest&to=1')).statusCode, 400);
    assert.equal((await getDiff('from=1')).statusCode, 400);
    assert.equal((await getDiff('from=1&to=2&x=1')).statusCode, 400);
    assert.equal((await getDiff('from=1&to=2', {})).statusCode, 401);
    assert.equal((await getDiff('from=1&to=2', { authorization: 'Bearer eu-token' })).statusCode, 403);
  });

  it('validate, activate and rollback report the same changes against the active generation', async () => {
    const first = await activate(1, 0);
    assert.equal(first.statusCode, 200);
    assert.ok(first.json().changes.some((c: ChangeBody) => c.entity === 'upstream' && c.id === 'web' && c.op === 'add'));

    const validate = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/validate',
      headers: { ...reader, ...json },
      payload: JSON.stringify(v2),
    });
    assert.equal(validate.statusCode, 200);
    assert.deepEqual(brief(validate.json().diff), V1_TO_V2);
    assert.ok(!validate.body.includes(secret));
    assert.deepEqual(brief((await getDiff('to=2')).json().changes), V1_TO_V2, 'from defaults to active');

    const dry = await activate(2, 1, true);
    assert.equal(dry.json().moved, false);
    assert.deepEqual(brief(dry.json().changes), V1_TO_V2);
    const real = await activate(2, 1);
    assert.equal(real.json().moved, true);
    assert.deepEqual(brief(real.json().changes), V1_TO_V2);
    assert.deepEqual((await activate(2, 2)).json().changes, [], 'already active');

    const rollback = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/rollback',
      headers: writeHeaders('admin-token', json),
      payload: { to: 'previous' },
    });
    assert.equal(rollback.statusCode, 200);
    assert.deepEqual(brief(rollback.json().changes), [
      'upstream beta remove /upstream/beta',
      'route api remove /upstream/api/route/host',
      'backend api/a2 change /upstream/api/backends/1/address',
    ]);
  });

  it('tells where sample requests go before and after', async () => {
    const requests = [
      { method: 'GET', host: 'www.example', path: '/' },
      { method: 'GET', host: 'www.example', path: '/api/users?id=1' },
      { method: 'GET', host: 'api.example:443', path: '/api/users' },
      { method: 'GET', host: 'www.example', path: '/api/users', headers: { 'X-Beta': 'yes' } },
    ];
    const res = await behaviour({ from: 1, to: 2, requests });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body.from, { seq: 1, digest: digests[0] });
    assert.deepEqual(
      body.results.map((r: { before: { upstream: string } | null; after: { upstream: string } | null; changed: boolean }) => [
        r.before?.upstream ?? null,
        r.after?.upstream ?? null,
        r.changed,
      ]),
      [
        ['web', 'web', false],
        ['api', 'web', true],
        ['api', 'api', false],
        ['api', 'beta', true],
      ],
    );
    assert.deepEqual(body.results[1].request, requests[1]);
    const fromActive = await behaviour({ to: 2, requests: requests.slice(0, 1) });
    assert.equal(fromActive.json().from.seq, 1, 'from defaults to active (rolled back to 1)');
  });

  it('refuses more than 1000 requests, unknown keys and unknown seqs', async () => {
    const one = { method: 'GET', host: 'h', path: '/' };
    assert.equal((await behaviour({ from: 1, to: 2, requests: Array.from({ length: 1000 }, () => one) })).statusCode, 200);
    assert.equal((await behaviour({ from: 1, to: 2, requests: Array.from({ length: 1001 }, () => one) })).statusCode, 400);
    assert.equal((await behaviour({ from: 1, to: 2, requests: [{ ...one, body: 'x' }] })).statusCode, 400);
    assert.equal((await behaviour({ from: 1, to: 2, requests: [{ method: 'GET', path: '/' }] })).statusCode, 400);
    assert.equal((await behaviour({ from: 1, to: 2, requests: [], extra: true })).statusCode, 400);
    assert.equal((await behaviour({ from: 1, to: 7, requests: [one] })).statusCode, 404);
    assert.equal((await behaviour({ from: 1, to: 2, requests: [one] }, {})).statusCode, 401);
  });
});
