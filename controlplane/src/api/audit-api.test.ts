import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canonicalJson } from '@spooky/config';
import { auditHash } from '../store/sqlite-audit-log.ts';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const admin = { authorization: 'Bearer admin-token' };

describe('REST API: audit', () => {
  let kit: ApiKit;
  before(async () => {
    kit = startApiKit();
    for (const [scope, port] of [
      ['default', 5001],
      ['prod-eu', 5002],
      ['default', 5003],
    ] as const) {
      const res = await kit.app.inject({
        method: 'POST',
        url: `/v1/scopes/${scope}/generations`,
        headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
        body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
      });
      assert.equal(res.statusCode, 201);
    }
  });
  after(() => kit.close());

  it('lists entries oldest first with prev_hash and hash, paged by since', async () => {
    const all = (await kit.app.inject({ url: '/v1/audit', headers: admin })).json();
    assert.deepEqual(
      all.items.map((e: { id: number }) => e.id),
      [1, 2, 3],
    );
    assert.equal(all.next, null);
    const [first, second] = all.items;
    assert.equal(first.prev_hash, '0'.repeat(64));
    assert.equal(second.prev_hash, first.hash);
    assert.equal(first.action, 'generation.create');
    assert.equal(first.actor, 'admin');
    // A client can recompute the chain from what the API returns.
    const { prev_hash: _p, hash: _h, detail, ...row } = second;
    assert.equal(auditHash(first.hash, { ...row, detail: canonicalJson(detail) }), second.hash);

    const page = (await kit.app.inject({ url: '/v1/audit?since=1&limit=1', headers: admin })).json();
    assert.deepEqual(
      page.items.map((e: { id: number }) => e.id),
      [2],
    );
    assert.equal(page.next, 2);
    const scoped = (await kit.app.inject({ url: '/v1/audit?scope=default', headers: admin })).json();
    assert.deepEqual(
      scoped.items.map((e: { id: number }) => e.id),
      [1, 3],
    );
  });

  it('needs audit:read and shows a scoped token only its scopes', async () => {
    assert.equal((await kit.app.inject({ url: '/v1/audit', headers: { authorization: 'Bearer reader-token' } })).statusCode, 403);
    assert.equal((await kit.app.inject({ url: '/v1/audit/verify', headers: { authorization: 'Bearer reader-token' } })).statusCode, 403);
    const eu = (await kit.app.inject({ url: '/v1/audit', headers: { authorization: 'Bearer eu-token' } })).json();
    assert.deepEqual(
      eu.items.map((e: { scope: string }) => e.scope),
      ['prod-eu'],
    );
    const forbidden = await kit.app.inject({ url: '/v1/audit?scope=default', headers: { authorization: 'Bearer eu-token' } });
    assert.equal(forbidden.statusCode, 403);
  });

  it('verifies the chain, and names the first edited row', async () => {
    const ok = await kit.app.inject({ url: '/v1/audit/verify', headers: admin });
    assert.deepEqual(ok.json(), { ok: true, entries: 3 });

    kit.store.db.exec('DROP TRIGGER audit_append_only_u');
    kit.store.db.prepare("UPDATE audit SET detail = json_set(detail, '$.sizeBytes', 1) WHERE id = 2").run();
    const broken = (await kit.app.inject({ url: '/v1/audit/verify', headers: admin })).json();
    assert.equal(broken.ok, false);
    assert.equal(broken.brokenAt, 2);
    assert.match(broken.reason, /hash/);
  });
});
