import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const reader = { authorization: 'Bearer reader-token' };
const yaml = { 'content-type': 'application/yaml' };

/** Overwrites the middle fifth of a (closed) database file with garbage. */
function corruptMiddle(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    const start = Math.floor(size * 0.4);
    writeSync(fd, Buffer.alloc(Math.floor(size * 0.2), 0x5a), 0, Math.floor(size * 0.2), start);
  } finally {
    closeSync(fd);
  }
}

describe('a database with damaged pages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-corrupt-'));
  let kit: ApiKit;
  before(async () => {
    const first = startApiKit({ dir });
    // Enough generations (each a few KB) that the middle of the file is table pages.
    for (let i = 0; i < 60; i++) {
      const extra = Array.from({ length: 40 }, (_, j) => `  u${j}:\n    route:\n      path_prefix: /u${j}/g${i}\n    backends:\n      - id: b\n        address: http://127.0.0.1:${8000 + j}\n`).join('');
      const res = await first.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/generations',
        headers: writeHeaders('admin-token', yaml),
        body: `${MINIMAL_YAML.replace('port: 9889', `port: ${4000 + i}`)}${extra}`,
      });
      assert.equal(res.statusCode, 201, res.body.slice(0, 300));
    }
    await first.close();
    corruptMiddle(join(dir, 'cp.db'));
    kit = startApiKit({ dir });
  });
  after(async () => {
    await kit?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not ready, says why, and refuses mutations with 503 problem+json', async () => {
    const ready = await kit.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.match(String(ready.headers['content-type']), /^application\/problem\+json/);
    assert.match(ready.json().detail, /integrity check failed/);
    assert.equal((await kit.app.inject({ url: '/healthz' })).statusCode, 200);

    const create = await kit.app.inject({
      method: 'POST',
      url: '/v1/scopes/default/generations',
      headers: writeHeaders('admin-token', yaml),
      body: MINIMAL_YAML,
    });
    assert.equal(create.statusCode, 503, create.body);
    assert.match(String(create.headers['content-type']), /^application\/problem\+json/);
    assert.equal(create.json().code, 'store_unavailable');
    assert.match(create.json().detail, /integrity check failed/);
    const activate = await kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { 'content-type': 'application/json', 'if-match': '"0"' }),
      payload: { seq: 1 },
    });
    assert.equal(activate.statusCode, 503);
    assert.equal((await kit.app.inject({ method: 'PUT', url: '/v1/scopes/default/active', payload: { seq: 1 } })).statusCode, 401, 'authentication first');
  });

  it('still answers reads, with 503 rather than 500 where a damaged page is hit', async () => {
    for (const url of ['/v1/scopes/default/active', '/v1/scopes/default/generations?limit=100', '/v1/scopes/default/generations/30', '/v1/nodes']) {
      const res = await kit.app.inject({ url, headers: reader });
      assert.ok([200, 404, 503].includes(res.statusCode), `${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  });
});
