import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const yaml = { 'content-type': 'application/yaml' };
const json = { 'content-type': 'application/json' };

describe('REST API: Idempotency-Key', () => {
  let kit: ApiKit;
  let nowMs = Date.parse('2026-04-01T00:00:00Z');
  before(() => {
    kit = startApiKit({ now: () => new Date(nowMs) });
  });
  after(() => kit.close());

  const create = (body: string, key: string, token = 'admin-token') =>
    kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/generations',
      headers: writeHeaders(token, { ...yaml, 'idempotency-key': key }),
      body,
    });

  it('replays the first response byte for byte, without running the handler again', async () => {
    const first = await create(MINIMAL_YAML, 'k-1');
    assert.equal(first.statusCode, 201);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const replay = await create(MINIMAL_YAML, 'k-1');
    assert.equal(replay.statusCode, 201, 'not 200 deduplicated: the stored response comes back');
    assert.equal(replay.body, first.body);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    for (const h of ['etag', 'location', 'content-type']) assert.equal(replay.headers[h], first.headers[h], h);
    assert.equal(kit.store.audit.all().length, 1, 'the replay wrote nothing');
  });

  it('answers 422 idempotency_key_reused for the same key with another body, method or path', async () => {
    const other = await create(MINIMAL_YAML.replace('9889', '9990'), 'k-1');
    assert.equal(other.statusCode, 422);
    assert.equal(other.json().code, 'idempotency_key_reused');
    assert.match(other.headers['content-type'] as string, /^application\/problem\+json/);
    const elsewhere = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/other/generations',
      headers: writeHeaders('admin-token', { ...yaml, 'idempotency-key': 'k-1' }),
      body: MINIMAL_YAML,
    });
    assert.equal(elsewhere.statusCode, 422);
  });

  it('keeps keys per token name', async () => {
    const eu = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/prod-eu/generations',
      headers: writeHeaders('eu-token', { ...yaml, 'idempotency-key': 'k-1' }),
      body: MINIMAL_YAML,
    });
    assert.equal(eu.statusCode, 201);
    assert.equal(eu.headers['idempotent-replayed'], undefined);
  });

  it('replays an activation even after the pointer moved on, and replays stored 4xx answers', async () => {
    const put = (key: string, ifMatch: string) =>
      kit.app.inject({
        method: 'PUT',
        url: '/v1/scopes/default/active',
        headers: writeHeaders('admin-token', { ...json, 'if-match': ifMatch, 'idempotency-key': key }),
        payload: { seq: 1 },
      });
    const first = await put('act-1', '"0"');
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers.etag, '"1"');
    const replay = await put('act-1', '"0"');
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.body, first.body);
    assert.equal(replay.headers.etag, '"1"');
    assert.equal(replay.headers['idempotent-replayed'], 'true');

    const stale = await put('act-2', '"7"');
    assert.equal(stale.statusCode, 412);
    const staleAgain = await put('act-2', '"7"');
    assert.equal(staleAgain.statusCode, 412);
    assert.equal(staleAgain.body, stale.body);
    assert.equal(staleAgain.headers['idempotent-replayed'], 'true');

    const rollback = (key: string) =>
      kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/rollback',
        headers: writeHeaders('admin-token', { ...json, 'idempotency-key': key }),
        payload: { to: 'previous' },
      });
    const rb = await rollback('rb-1');
    assert.equal(rb.statusCode, 409);
    assert.equal((await rollback('rb-1')).headers['idempotent-replayed'], 'true');
  });

  it('ignores keys on requests refused before the handler (auth, reason) and rejects malformed keys', async () => {
    const noReason = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/generations',
      headers: { authorization: 'Bearer admin-token', ...yaml, 'idempotency-key': 'k-2' },
      body: MINIMAL_YAML,
    });
    assert.equal(noReason.statusCode, 400);
    const later = await create(MINIMAL_YAML.replace('9889', '9991'), 'k-2');
    assert.equal(later.statusCode, 201, 'the key was not consumed by the refused request');
    const bad = await create(MINIMAL_YAML, 'has space');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'invalid_request');
  });

  it('a rollback replayed with its key moves the pointer once; a new rollback is not an undo toggle', async () => {
    const scope = 'rb';
    const who = { actor: 'test', reason: 'setup' };
    for (const port of ['9701', '9702', '9703']) {
      const made = await kit.app.inject({
        method: 'POST',
        url: `/v1/scopes/${scope}/generations`,
        headers: writeHeaders('admin-token', yaml),
        body: MINIMAL_YAML.replace('9889', port),
      });
      assert.equal(made.statusCode, 201);
      const seq = made.json().seq as number;
      kit.active.activate(scope, seq, seq - 1, who);
    }
    const rollback = (key: string | null) =>
      kit.app.inject({
        method: 'POST',
        url: `/v1/scopes/${scope}/rollback`,
        headers: writeHeaders('admin-token', { ...json, ...(key === null ? {} : { 'idempotency-key': key }) }),
        payload: { to: 'previous' },
      });
    const first = await rollback('rb-ok');
    assert.equal(first.statusCode, 200);
    assert.deepEqual([first.json().active.seq, first.json().active.version, first.json().moved], [2, 4, true]);
    const retry = await rollback('rb-ok');
    assert.equal(retry.statusCode, 200);
    assert.equal(retry.body, first.body);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual([kit.active.getActive(scope)?.seq, kit.active.getActive(scope)?.version], [2, 4], 'moved once');
    const next = await rollback(null);
    assert.equal(next.statusCode, 200);
    assert.equal(next.json().active.seq, 1, '3 was rolled back from: previous of 2 is 1, not 3');
  });

  it('expires keys after 24 hours', async () => {
    nowMs += 24 * 60 * 60 * 1000 + 1;
    const fresh = await create(MINIMAL_YAML.replace('9889', '9992'), 'k-1');
    assert.equal(fresh.statusCode, 201);
    assert.equal(fresh.headers['idempotent-replayed'], undefined);
    const count = kit.store.db.prepare('SELECT count(*) AS n FROM idempotency_keys').get() as { n: number };
    assert.equal(count.n, 1, 'older records were cleaned up on insert');
  });
});
