import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const yaml = { 'content-type': 'application/yaml' };
const json = { 'content-type': 'application/json' };
// minimal.yaml as JSON, on another port (so a different digest).
const minimalJson = JSON.stringify({
  version: 1,
  listen: { protocol: 'http3', address: '127.0.0.1', port: 9890, tls: { cert: 'certs/cert.pem', key: 'certs/key.pem' } },
  upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'app-1', address: 'http://127.0.0.1:8080' }] } },
});

describe('REST API', () => {
  let kit: ApiKit;
  before(() => {
    kit = startApiKit();
  });
  after(() => kit.close());

  const create = (body: string, headers: Record<string, string> = yaml, scope = 'default') =>
    kit.app.inject({ method: 'POST', url: `/v1/scopes/${scope}/generations`, headers: writeHeaders('admin-token', headers), body });

  it('creates a generation from YAML (201), then deduplicates (200)', async () => {
    const res = await create(MINIMAL_YAML);
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.seq, 1);
    assert.equal(body.deduplicated, false);
    assert.equal(body.author, 'admin');
    assert.equal(res.headers.location, '/v1/scopes/default/generations/1');
    assert.equal(res.headers.etag, `"${body.digest}"`);

    const again = await create(MINIMAL_YAML);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().seq, 1);
    assert.equal(again.json().deduplicated, true);
  });

  it('accepts a JSON body and returns the document', async () => {
    const res = await create(minimalJson, json);
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().seq, 2);
    const get = await kit.app.inject({ url: '/v1/scopes/default/generations/2', headers: { authorization: 'Bearer reader-token' } });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().document.listeners[0].port, 9890);
    assert.equal(get.json().document.listeners[0].tls.key, '[redacted]', 'private-key paths are secrets');
    assert.equal(typeof get.json().document.listeners[0].tls.cert, 'string');
    assert.notEqual(get.json().document.listeners[0].tls.cert, '[redacted]');
    const missing = await kit.app.inject({ url: '/v1/scopes/default/generations/99', headers: { authorization: 'Bearer reader-token' } });
    assert.equal(missing.statusCode, 404);
    const list = await kit.app.inject({ url: '/v1/scopes/default/generations?limit=1', headers: { authorization: 'Bearer reader-token' } });
    assert.deepEqual(
      list.json().items.map((g: { seq: number }) => g.seq),
      [2],
    );
    assert.equal(list.json().next, 2);
  });

  it('answers 422 with JSON Pointer issues for an invalid config, 400 when unparseable', async () => {
    const invalid = await create(MINIMAL_YAML.replace('path_prefix: /', 'path_prefix: /\n      bogus: 1'));
    assert.equal(invalid.statusCode, 422);
    assert.match(String(invalid.headers['content-type']), /^application\/problem\+json/);
    const problem = invalid.json();
    assert.equal(problem.status, 422);
    assert.equal(problem.code, 'config_invalid');
    assert.ok(problem.issues.length > 0);
    for (const issue of problem.issues) {
      assert.match(issue.pointer, /^(\/[^/]*)*$/);
      assert.equal(typeof issue.code, 'string');
      assert.equal(typeof issue.message, 'string');
    }
    assert.ok(problem.issues.some((i: { pointer: string }) => i.pointer.startsWith('/upstream/app/route')));

    const broken = await create('{"version": 1,', json);
    assert.equal(broken.statusCode, 400);
    assert.equal(broken.json().code, 'config_unparseable');

    // A YAML syntax error names where it is: the nearest key, its line and column.
    const duplicate = await create(MINIMAL_YAML.replace('path_prefix: /', 'path_prefix: /\n      path_prefix: /x'));
    assert.equal(duplicate.statusCode, 400);
    const syntax = duplicate.json().issues[0];
    assert.equal(syntax.pointer, '/upstream/app/route/path_prefix');
    assert.equal(syntax.code, 'config.syntax');
    assert.match(syntax.message, /^invalid YAML at line \d+, column \d+ \(key "path_prefix"\)/);
  });

  it('validates without storing', async () => {
    const res = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/validate',
      headers: { authorization: 'Bearer reader-token', ...yaml },
      body: MINIMAL_YAML.replace('9889', '9999'),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().valid, true);
    assert.match(res.json().digest, /^sha256:/);
    // Nothing is active yet: every entity of the submitted config is an add.
    assert.ok(res.json().diff.some((c: { entity: string; op: string }) => c.entity === 'upstream' && c.op === 'add'));
    const invalid = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/validate',
      headers: { authorization: 'Bearer reader-token', ...yaml },
      body: MINIMAL_YAML.replace('port: 9889', 'port: 70000'),
    });
    assert.equal(invalid.statusCode, 200);
    assert.equal(invalid.json().valid, false);
    assert.equal(invalid.json().issues[0].pointer, '/listen/port');
    const list = await kit.app.inject({ url: '/v1/scopes/default/generations', headers: { authorization: 'Bearer reader-token' } });
    assert.equal(list.json().items.length, 2);
  });

  it('rejects request bodies with unknown keys or wrongly typed values instead of guessing', async () => {
    const put = (payload: unknown) =>
      kit.app.inject({
        method: 'PUT',
        url: '/v1/scopes/default/active',
        headers: writeHeaders('admin-token', { ...json, 'if-match': '"0"' }),
        payload: payload as Record<string, unknown>,
      });
    const typo = await put({ seq: 1, dryrun: true });
    assert.equal(typo.statusCode, 400);
    assert.equal(typo.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal((await put({ seq: 'one' })).statusCode, 400);
    assert.equal((await put({})).statusCode, 400);
    assert.equal((await kit.app.inject({ url: '/v1/scopes/default/active', headers: { authorization: 'Bearer reader-token' } })).json().seq, null, 'nothing moved');
  });

  it('activates with If-Match: 428 without, 412 stale, 200 + version bump, then rolls back', async () => {
    const put = (seq: number, ifMatch?: string) =>
      kit.app.inject({
        method: 'PUT',
        url: '/v1/scopes/default/active',
        headers: writeHeaders('admin-token', ifMatch === undefined ? json : { ...json, 'if-match': ifMatch }),
        payload: { seq },
      });
    const initial = await kit.app.inject({ url: '/v1/scopes/default/active', headers: { authorization: 'Bearer reader-token' } });
    assert.equal(initial.headers.etag, '"0"');
    assert.equal(initial.json().seq, null);
    assert.equal(initial.json().version, 0);

    assert.equal((await put(1)).statusCode, 428);
    assert.equal((await put(1, '"5"')).statusCode, 412);
    assert.equal((await put(42, '"0"')).statusCode, 404);
    const first = await put(1, '"0"');
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().active.version, 1);
    assert.equal(first.headers.etag, '"1"');
    assert.deepEqual(
      first.json().changes.filter((c: { entity: string }) => c.entity === 'upstream').map((c: { id: string; op: string }) => `${c.id} ${c.op}`),
      ['app add'],
    );
    assert.equal((await put(2, '"0"')).statusCode, 412);
    const dry = await kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { ...json, 'if-match': '"1"' }),
      payload: { seq: 2, dryRun: true },
    });
    assert.equal(dry.statusCode, 200);
    assert.equal(dry.json().dryRun, true);
    assert.equal(dry.json().moved, false);
    assert.equal(dry.json().active.seq, 1);
    const second = await put(2, '"1"');
    assert.equal(second.json().active.seq, 2);
    assert.equal(kit.active.desired('default')?.seq, 2);

    const rollback = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/rollback',
      headers: writeHeaders('admin-token', json),
      payload: { to: 'previous' },
    });
    assert.equal(rollback.statusCode, 200);
    assert.equal(rollback.json().active.seq, 1);
    assert.equal(rollback.json().active.version, 3);

    const nothing = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/empty/rollback',
      headers: writeHeaders('admin-token', json),
      payload: { to: 'previous' },
    });
    assert.equal(nothing.statusCode, 409);
    assert.equal(kit.store.audit.verify(), null);
  });

  it('rejects missing tokens (401), missing permissions or scopes (403), missing reasons (400)', async () => {
    const anonymous = await kit.app.inject({ method: 'POST', url: '/v1/scopes/default/generations', headers: yaml, body: MINIMAL_YAML });
    assert.equal(anonymous.statusCode, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
    const wrong = await kit.app.inject({ url: '/v1/scopes/default/active', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);

    const reader = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/generations',
      headers: writeHeaders('reader-token', yaml),
      body: MINIMAL_YAML,
    });
    assert.equal(reader.statusCode, 403);
    assert.equal(reader.json().code, 'forbidden');
    const otherScope = await create(MINIMAL_YAML, { ...yaml, authorization: 'Bearer eu-token' });
    assert.equal(otherScope.statusCode, 403);

    const noReason = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/generations',
      headers: { authorization: 'Bearer admin-token', ...yaml },
      body: MINIMAL_YAML,
    });
    assert.equal(noReason.statusCode, 400);
    assert.equal(noReason.json().type, 'urn:spooky:problem:reason_required');

    const badScope = await create(MINIMAL_YAML, yaml, 'Bad_Scope');
    assert.equal(badScope.statusCode, 400);
    assert.equal(badScope.json().code, 'invalid_scope');
  });

  it('answers 413 above 4 MiB and 415 for other media types', async () => {
    const big = await create(`# ${'x'.repeat(4 * 1024 * 1024)}\n${MINIMAL_YAML}`);
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'payload_too_large');
    const text = await create(MINIMAL_YAML, { 'content-type': 'text/html' });
    assert.equal(text.statusCode, 415);
  });

  it('serves fleet views, health and metrics', async () => {
    const at = new Date();
    const active = kit.active.getActive('default');
    assert.ok(active);
    kit.store.nodes.connected({
      nodeId: 'node-a',
      bootId: 'boot-1',
      scope: 'default',
      labels: { zone: 'a' },
      schemaMin: 1,
      schemaMax: 1,
      build: 'test',
      serving: { scope: 'default', seq: active.seq, digest: active.digest },
      source: 'control-plane',
      at,
    });
    const reader = { authorization: 'Bearer reader-token' };
    const status = await kit.app.inject({ url: '/v1/scopes/default/status', headers: reader });
    assert.equal(status.statusCode, 200);
    assert.deepEqual(status.json().nodes, { total: 1, connected: 1, stale: 0, disconnected: 0, converged: 1, nacking: 0 });
    assert.deepEqual(status.json().byGeneration, [{ seq: active.seq, digest: active.digest, count: 1 }]);
    const nodes = await kit.app.inject({ url: '/v1/nodes?scope=default', headers: reader });
    assert.equal(nodes.json().items[0].nodeId, 'node-a');
    assert.equal((await kit.app.inject({ url: '/v1/nodes/node-a', headers: reader })).statusCode, 200);
    assert.equal((await kit.app.inject({ url: '/v1/nodes/none', headers: reader })).statusCode, 404);
    assert.equal((await kit.app.inject({ url: '/v1/nodes', headers: { authorization: 'Bearer eu-token' } })).json().items.length, 0);

    assert.equal((await kit.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await kit.app.inject({ url: '/readyz' })).statusCode, 200);
    const metrics = await kit.app.inject({ url: '/metrics' });
    assert.match(metrics.body, /spooky_cp_http_requests_total/);
    const unknown = await kit.app.inject({ url: '/v1/unknown' });
    assert.equal(unknown.statusCode, 404);
    assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);
  });
});
