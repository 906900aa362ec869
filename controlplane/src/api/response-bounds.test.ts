import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromWireIssues, MAX_NACK_ISSUE_TEXT, MAX_NACK_ISSUES } from '../distribution/wire-refs.ts';
import { helloFacts } from '../testing/node-facts.ts';
import { type ApiKit, startApiKit, writeHeaders } from './api-test-kit.ts';
import { FakeRolloutControl } from './fake-rollout-control.ts';
import { problemOf } from './problem.ts';
import { boundRollout, MAX_RESPONSE_CHANGES, MAX_RESPONSE_ISSUES, MAX_RESPONSE_NODES } from './response-bounds.ts';

const reader = { authorization: 'Bearer reader-token' };
const json = { 'content-type': 'application/json' };

/** A valid config of `count` upstreams (each one a change from nothing), `backends` backends each. */
function bigConfig(count: number, backends = 1): unknown {
  const upstream: Record<string, unknown> = {};
  for (let u = 0; u < count; u++) {
    upstream[`u${u}`] = {
      route: { path_prefix: `/u${u}` },
      backends: Array.from({ length: backends }, (_, i) => ({ id: `b${i}`, address: `http://127.0.0.1:${10_000 + i}` })),
    };
  }
  return { version: 1, listen: { protocol: 'http3', address: '127.0.0.1', port: 9889, tls: { cert: 'c.pem', key: 'k.pem' } }, upstream };
}

describe('every response is bounded', () => {
  let kit: ApiKit;
  before(() => {
    kit = startApiKit();
  });
  after(() => kit.close());

  it('validate, diff and activate return at most MAX_RESPONSE_CHANGES changes, with truncated and the total', async () => {
    const doc = JSON.stringify(bigConfig(MAX_RESPONSE_CHANGES + 200));
    const validate = await kit.app.inject({ method: 'POST', url: '/v1/scopes/default/validate', headers: { ...reader, ...json }, payload: doc });
    assert.equal(validate.statusCode, 200, validate.body.slice(0, 300));
    const v = validate.json();
    assert.equal(v.valid, true);
    assert.equal(v.diff.length, MAX_RESPONSE_CHANGES);
    assert.equal(v.truncated, true);
    assert.ok(v.totalChanges > MAX_RESPONSE_CHANGES, `total ${v.totalChanges}`);

    const created = await kit.app.inject({ method: 'POST', url: '/v1/scopes/default/generations', headers: writeHeaders('admin-token', json), payload: doc });
    assert.equal(created.statusCode, 201);
    const diff = (await kit.app.inject({ url: '/v1/scopes/default/diff?to=1', headers: reader })).json();
    assert.deepEqual([diff.changes.length, diff.truncated, diff.totalChanges], [MAX_RESPONSE_CHANGES, true, v.totalChanges]);
    const activate = await kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { ...json, 'if-match': '"0"' }),
      payload: { seq: 1 },
    });
    assert.equal(activate.statusCode, 200);
    const moved = activate.json();
    assert.deepEqual([moved.changes.length, moved.truncated, moved.totalChanges], [MAX_RESPONSE_CHANGES, true, v.totalChanges]);

    const small = await kit.app.inject({ url: '/v1/scopes/default/diff?from=1&to=1', headers: reader });
    assert.deepEqual([small.json().changes, small.json().truncated, small.json().totalChanges], [[], false, 0]);
  });

  it('a problem carries at most MAX_RESPONSE_ISSUES issues and counts the rest', async () => {
    const doc = bigConfig(3, MAX_RESPONSE_ISSUES) as { upstream: Record<string, { backends: { address: string }[] }> };
    for (const u of Object.values(doc.upstream)) for (const b of u.backends) b.address = 'not a url';
    const res = await kit.app.inject({ method: 'POST', url: '/v1/scopes/default/generations', headers: writeHeaders('admin-token', json), payload: JSON.stringify(doc) });
    assert.equal(res.statusCode, 422);
    const body = res.json();
    assert.ok(body.issues.length <= MAX_RESPONSE_ISSUES);
    if (body.issues.length === MAX_RESPONSE_ISSUES) assert.ok(body.totalIssues === undefined || body.totalIssues > MAX_RESPONSE_ISSUES);
    const validate = await kit.app.inject({ method: 'POST', url: '/v1/scopes/default/validate', headers: { ...reader, ...json }, payload: JSON.stringify(doc) });
    assert.equal(validate.json().valid, false);
    assert.ok(validate.json().issues.length <= MAX_RESPONSE_ISSUES);
    const many = Array.from({ length: 500 }, (_, i) => ({ pointer: `/x/${i}`, code: 'c', message: 'm' }));
    const problem = problemOf('config_invalid', 'bad', many);
    assert.deepEqual([problem.issues?.length, problem.totalIssues], [MAX_RESPONSE_ISSUES, 500]);
    assert.equal(problemOf('config_invalid', 'bad', many.slice(0, 3)).totalIssues, undefined);
  });

  it('pages GET /v1/nodes by node id', async () => {
    for (let i = 0; i < 5; i++) kit.recorder.connected(helloFacts(`node-${i}`, { scope: 'paged' }));
    const seen: string[] = [];
    let next: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string = next === null ? 'scope=paged&limit=2' : `scope=paged&limit=2&after=${next}`;
      const res = await kit.app.inject({ url: `/v1/nodes?${query}`, headers: reader });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { items: { nodeId: string }[]; next: string | null };
      assert.ok(body.items.length <= 2);
      seen.push(...body.items.map((n) => n.nodeId));
      next = body.next;
      if (next === null) break;
    }
    assert.deepEqual(seen, ['node-0', 'node-1', 'node-2', 'node-3', 'node-4']);
    assert.equal((await kit.app.inject({ url: '/v1/nodes?limit=1001', headers: reader })).statusCode, 400);
  });

  it('caps the issues of a NACK at the gRPC boundary', () => {
    const long = 'x'.repeat(10 * MAX_NACK_ISSUE_TEXT);
    const kept = fromWireIssues(Array.from({ length: 5000 }, () => ({ pointer: long, code: long, message: long })));
    assert.equal(kept.length, MAX_NACK_ISSUES);
    for (const issue of kept) assert.ok(issue.message.length <= MAX_NACK_ISSUE_TEXT + 1 && issue.pointer.length <= MAX_NACK_ISSUE_TEXT + 1);
  });
});

describe('rollout answers are bounded', () => {
  it('cuts node lists and decisions, keeping the counts and the newest decisions', () => {
    const fake = new FakeRolloutControl({ nodesOf: (stage) => Array.from({ length: 1500 }, (_, i) => `s${stage}-n${i}`) });
    const started = fake.start({ scope: 'default', seq: 2, actor: 't' });
    for (let i = 0; i < 30; i++) {
      fake.operate(started.id, 'pause', 't');
      fake.operate(started.id, 'resume', 't');
    }
    const view = fake.advance(started.id);
    const bounded = boundRollout(view, MAX_RESPONSE_NODES, 10);
    assert.equal(bounded.truncated, true);
    assert.equal(bounded.stages[0]?.nodes.length, MAX_RESPONSE_NODES);
    assert.equal(bounded.stages[0]?.nodeCount, 1500);
    assert.equal(bounded.cohort.length, MAX_RESPONSE_NODES);
    assert.equal(bounded.cohortSize, 3000);
    assert.equal(bounded.decisions.length, 10);
    assert.equal(bounded.totalDecisions, view.decisions.length);
    assert.deepEqual(bounded.decisions.at(-1), view.decisions.at(-1), 'the newest decisions are kept');
    const small = boundRollout(new FakeRolloutControl().start({ scope: 'other', seq: 2, actor: 't' }));
    assert.equal(small.truncated, false);
  });
});
