import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { behaviourDiff, MAX_BEHAVIOUR_REQUESTS } from './behaviour-diff.ts';
import { parseConfig } from './parse-config.ts';
import type { Config } from './types.ts';

function config(upstream: Record<string, unknown>): Config {
  const r = parseConfig({ listen: { tls: { cert: 'c.pem', key: 'k.pem' } }, upstream });
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
  return r.config;
}

const backend = (port: number) => [{ id: 'b', address: `http://127.0.0.1:${port}` }];
const before = config({ web: { route: { path_prefix: '/' }, backends: backend(1) }, api: { route: { path_prefix: '/api' }, backends: backend(2) } });
const after = config({
  web: { route: { path_prefix: '/' }, backends: backend(1) },
  api: { route: { path_prefix: '/api', host: 'api.example' }, backends: backend(2) },
  beta: { route: { path_prefix: '/api', headers: [{ name: 'x-beta', present: true }] }, backends: backend(3) },
});

describe('behaviourDiff', () => {
  it('says where each request goes before and after, and whether it moved', () => {
    const requests = [
      { method: 'GET', host: 'www.example', path: '/index.html' },
      { method: 'GET', host: 'www.example', path: '/api/users' },
      { method: 'GET', host: 'api.example', path: '/api/users' },
      { method: 'GET', host: 'www.example', path: '/api/users', headers: { 'X-Beta': '1' } },
    ];
    const results = behaviourDiff(before, after, requests);
    assert.deepEqual(
      results.map((r) => [r.before?.upstream, r.after?.upstream, r.changed]),
      [
        ['web', 'web', false],
        ['api', 'web', true],
        ['api', 'api', false],
        ['api', 'beta', true],
      ],
    );
    assert.equal(results[3]?.request, requests[3], 'the request is echoed');
  });

  it('treats a missing config as routing nothing; gaining or losing a route is a change', () => {
    const req = { method: 'GET', host: 'h', path: '/' };
    assert.deepEqual(behaviourDiff(null, before, [req]), [{ request: req, before: null, after: { upstream: 'web' }, changed: true }]);
    assert.deepEqual(behaviourDiff(before, null, [req]), [{ request: req, before: { upstream: 'web' }, after: null, changed: true }]);
    const narrow = config({ api: { route: { path_prefix: '/api' }, backends: backend(2) } });
    assert.deepEqual(behaviourDiff(narrow, narrow, [req]), [{ request: req, before: null, after: null, changed: false }]);
  });

  it(`refuses more than ${MAX_BEHAVIOUR_REQUESTS} requests`, () => {
    const many = Array.from({ length: MAX_BEHAVIOUR_REQUESTS + 1 }, () => ({ method: 'GET', host: 'h', path: '/' }));
    assert.throws(() => behaviourDiff(before, after, many), RangeError);
    assert.equal(behaviourDiff(before, after, many.slice(1)).length, MAX_BEHAVIOUR_REQUESTS);
  });
});
