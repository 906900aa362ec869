import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const reader = { authorization: 'Bearer reader-token' };
const json = { 'content-type': 'application/json' };

describe('strict request bodies and query strings', () => {
  let kit: ApiKit;
  before(async () => {
    kit = startApiKit();
    for (const port of [5001, 5002]) {
      const res = await kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/generations',
        headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
        body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
      });
      assert.equal(res.statusCode, 201, res.body);
    }
  });
  after(() => kit.close());

  const activeVersion = async (): Promise<string> =>
    String((await kit.app.inject({ url: '/v1/scopes/default/active', headers: reader })).headers.etag);
  const put = (payload: unknown, version = 0) =>
    kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { ...json, 'if-match': `"${version}"` }),
      payload: JSON.stringify(payload),
    });
  const rollback = (payload: unknown) =>
    kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/rollback',
      headers: writeHeaders('admin-token', json),
      payload: JSON.stringify(payload),
    });
  const assertRefused = (res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, pointer: string) => {
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = res.json() as { code: string; detail: string; issues: { pointer: string }[] };
    assert.equal(body.code, 'invalid_request');
    assert.ok(
      body.issues.some((i) => i.pointer === pointer),
      `issues name ${pointer}: ${JSON.stringify(body.issues)}`,
    );
    assert.ok(body.detail.includes(pointer), `detail names the field: ${body.detail}`);
  };

  it('refuses a non-boolean dryRun or force on PUT active and moves nothing', async () => {
    for (const dryRun of [null, 0, 1, 'true', 'false', [], {}]) {
      assertRefused(await put({ seq: 1, dryRun }), '/dryRun');
      assert.equal(await activeVersion(), '"0"', `dryRun ${JSON.stringify(dryRun)} did not activate`);
    }
    for (const force of [null, 0, 'yes']) assertRefused(await put({ seq: 1, force }), '/force');
    assert.equal(await activeVersion(), '"0"');
  });

  it('refuses a strategy or abort_live of the wrong type (staged rollouts) and moves nothing', async () => {
    for (const strategy of ['fast', 'STAGED', null, 1, true]) assertRefused(await put({ seq: 1, strategy }), '/strategy');
    for (const abort_live of [null, 0, 'true']) assertRefused(await put({ seq: 1, abort_live }), '/abort_live');
    assertRefused(await put({ seq: 1, abortLive: true }), '/abortLive');
    assert.equal(await activeVersion(), '"0"');
  });

  it('refuses seq that is not an integer, a missing seq and unknown keys', async () => {
    for (const seq of ['1', 1.5, true, null, [1]]) assertRefused(await put({ seq }), '/seq');
    assertRefused(await put({}), '/seq');
    assertRefused(await put({ seq: 1, extra: true }), '/extra');
    assert.equal((await put(null)).statusCode, 400);
    assert.equal((await put([1])).statusCode, 400);
    assert.equal(await activeVersion(), '"0"');
    const real = await put({ seq: 1, dryRun: false });
    assert.equal(real.statusCode, 200, real.body);
    assert.equal(await activeVersion(), '"1"');
  });

  it('refuses a rollback target or force of the wrong type', async () => {
    assert.equal((await put({ seq: 2 }, 1)).statusCode, 200);
    assertRefused(await rollback({ to: 'lkg', abort_live: 'yes' }), '/abort_live');
    for (const to of [true, '1', null, 1.5, 0, 'latest']) {
      const res = await rollback({ to });
      assert.equal(res.statusCode, 400, `to ${JSON.stringify(to)}`);
      assert.ok((res.json() as { issues: { pointer: string }[] }).issues.some((i) => i.pointer === '/to'));
    }
    assertRefused(await rollback({ to: 'previous', force: 0 }), '/force');
    assert.equal(await activeVersion(), '"2"');
  });

  it('refuses a behaviour-diff body of the wrong types', async () => {
    const behaviour = (payload: unknown) =>
      kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/diff/behaviour',
        headers: { ...reader, ...json },
        payload: JSON.stringify(payload),
      });
    const one = { method: 'GET', host: 'h', path: '/' };
    assert.equal((await behaviour({ from: 1, to: 2, requests: [one] })).statusCode, 200);
    assertRefused(await behaviour({ from: '1', to: 2, requests: [one] }), '/from');
    assertRefused(await behaviour({ to: 2, requests: [{ ...one, path: 7 }] }), '/requests/0/path');
    assertRefused(await behaviour({ to: 2, requests: [{ ...one, headers: { a: 1 } }] }), '/requests/0/headers/a');
    assertRefused(await behaviour({ to: 2, requests: { 0: one } }), '/requests');
  });

  it('coerces query strings and path parameters from text but refuses what does not convert', async () => {
    const get = (url: string, headers: Record<string, string> = reader) => kit.app.inject({ url, headers });
    const admin = { authorization: 'Bearer admin-token' };
    assert.equal((await get('/v1/scopes/default/generations?limit=10')).statusCode, 200);
    for (const url of [
      '/v1/scopes/default/generations?limit=abc',
      '/v1/scopes/default/generations?limit=1.5',
      '/v1/scopes/default/generations?before=x',
      '/v1/scopes/default/generations?limit=1&limit=2',
      '/v1/scopes/default/generations/abc',
      '/v1/scopes/default/diff?to=two',
      '/v1/nodes?unknown=1',
      '/v1/nodes?limit=abc',
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url);
    }
    assert.equal((await get('/v1/audit?since=1&limit=5', admin)).statusCode, 200);
    assert.equal((await get('/v1/audit?since=abc', admin)).statusCode, 400);
    assert.equal((await get('/v1/audit?limit=0', admin)).statusCode, 400);
    assert.equal((await get('/v1/events?follow=maybe', admin)).statusCode, 400);
  });
});
