import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './parse-config.ts';
import { decodeUnreserved, normalizeHost, type ProbeRequest, resolveReference } from './route-reference.ts';
import type { Config } from './types.ts';

type RouteInput = Record<string, unknown>;

/** A config with one upstream per entry (route input as written by operators). */
function routes(table: Record<string, RouteInput | null>): Config {
  const upstream: Record<string, unknown> = {};
  let port = 8000;
  for (const [name, route] of Object.entries(table)) {
    port++;
    upstream[name] = { ...(route ? { route } : {}), backends: [{ id: 'b', address: `http://127.0.0.1:${port}` }] };
  }
  const r = parseConfig({ listen: { tls: { cert: 'c.pem', key: 'k.pem' } }, upstream });
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
  return r.config;
}

const get = (host: string, path: string, headers?: Record<string, string>): ProbeRequest => ({ method: 'GET', host, path, ...(headers ? { headers } : {}) });

function expectRoutes(config: Config, cases: Array<[ProbeRequest, string | null]>): void {
  for (const [req, want] of cases) assert.equal(resolveReference(config, req), want, JSON.stringify(req));
}

describe('reference router: matching', () => {
  it('matches path prefixes on segment boundaries; / matches everything', () => {
    const c = routes({ api: { path_prefix: '/api' }, root: { path_prefix: '/' } });
    expectRoutes(c, [
      [get('h', '/api'), 'api'],
      [get('h', '/api/'), 'api'],
      [get('h', '/api/x/y'), 'api'],
      [get('h', '/apix'), 'root'],
      [get('h', '/'), 'root'],
      [get('h', 'api'), null],
      [get('h', ''), null],
    ]);
    expectRoutes(routes({ api: { path_prefix: '/api/' } }), [
      [get('h', '/api'), 'api'],
      [get('h', '/apix'), null],
    ]);
  });

  it('matches on the path without query or fragment, unreserved escapes decoded, others kept', () => {
    const c = routes({ api: { path_prefix: '/api' }, tilde: { path_prefix: '/~u' } });
    expectRoutes(c, [
      [get('h', '/api?x=/other'), 'api'],
      [get('h', '/apix?/api'), null],
      [get('h', '/%61pi/x'), 'api'],
      [get('h', '/%61%70%69'), 'api'],
      [get('h', '/%7Eu'), 'tilde'],
      [get('h', '/%7eu/x'), 'tilde'],
      [get('h', '/api%2Fx'), null],
      [get('h', '/api#frag'), 'api'],
    ]);
    assert.equal(decodeUnreserved('/%2561%41%2f%20'), '/%2561A%2f%20');
  });

  it('normalises the request host: trim, port, IPv6 brackets, trailing dots, case; falls back to the Host header', () => {
    assert.equal(normalizeHost(' API.Example.:443 '), 'api.example');
    assert.equal(normalizeHost('[::1]:8443'), '::1');
    assert.equal(normalizeHost('::1'), '::1');
    assert.equal(normalizeHost(' '), null);
    const c = routes({ api: { host: 'api.example' }, v6: { host: '[::1]', path_prefix: '/v6' } });
    expectRoutes(c, [
      [get('API.EXAMPLE.', '/'), 'api'],
      [get('api.example:9889', '/'), 'api'],
      [get('', '/', { Host: 'api.example' }), 'api'],
      [get('[::1]:9889', '/v6'), 'v6'],
      [get('other.example', '/'), null],
      [get('', '/'), null],
    ]);
  });

  it('wildcards match any depth of subdomain, never the apex', () => {
    const c = routes({ wild: { host: '*.example.com' } });
    expectRoutes(c, [
      [get('a.example.com', '/'), 'wild'],
      [get('a.b.c.example.com', '/'), 'wild'],
      [get('example.com', '/'), null],
      [get('badexample.com', '/'), null],
    ]);
  });

  it('matches methods case-insensitively against the uppercased route method', () => {
    const c = routes({ post: { method: 'post' } });
    expectRoutes(c, [
      [{ method: 'POST', host: 'h', path: '/' }, 'post'],
      [{ method: 'post', host: 'h', path: '/' }, 'post'],
      [get('h', '/'), null],
    ]);
  });

  it('header matchers: exact, prefix, present, absent, anchored regex; names case-insensitive', () => {
    const c = routes({
      exact: { path_prefix: '/e', headers: [{ name: 'X-Env', exact: 'canary' }] },
      prefix: { path_prefix: '/p', headers: [{ name: 'x-env', prefix: 'can' }] },
      present: { path_prefix: '/s', headers: [{ name: 'x-env', present: true }] },
      absent: { path_prefix: '/a', headers: [{ name: 'x-env', present: false }] },
      regex: { path_prefix: '/r', headers: [{ name: 'x-env', regex: 'c[a-z]+y' }] },
      both: { path_prefix: '/b', headers: [{ name: 'x-a', present: true }, { name: 'x-b', exact: '2' }] },
    });
    expectRoutes(c, [
      [get('h', '/e', { 'x-env': 'canary' }), 'exact'],
      [get('h', '/e', { 'X-ENV': 'canary' }), 'exact'],
      [get('h', '/e', { 'x-env': 'Canary' }), null],
      [get('h', '/p', { 'x-env': 'canal' }), 'prefix'],
      [get('h', '/p', { 'x-env': 'ca' }), null],
      [get('h', '/s', { 'x-env': '' }), 'present'],
      [get('h', '/s'), null],
      [get('h', '/a'), 'absent'],
      [get('h', '/a', { 'x-env': 'x' }), null],
      [get('h', '/r', { 'x-env': 'canary' }), 'regex'],
      [get('h', '/r', { 'x-env': 'canary2' }), null],
      [get('h', '/r', { 'x-env': 'xcanary' }), null],
      [get('h', '/b', { 'x-a': '1', 'x-b': '2' }), 'both'],
      [get('h', '/b', { 'x-a': '1' }), null],
    ]);
  });

  it('query and cookie matchers: names case-sensitive, any value of a repeated name, query form-decoded', () => {
    const c = routes({
      q: { path_prefix: '/q', query: [{ name: 'v', exact: 'a b' }] },
      c: { path_prefix: '/c', cookies: [{ name: 'beta', exact: '1' }] },
    });
    expectRoutes(c, [
      [get('h', '/q?v=a+b'), 'q'],
      [get('h', '/q?v=a%20b&v=zz'), 'q'],
      [get('h', '/q?v=zz&v=a+b'), 'q'],
      [get('h', '/q?v=zz'), null],
      [get('h', '/q?V=a+b'), null],
      [get('h', '/q'), null],
      [get('h', '/c', { cookie: 'x=1; beta=1' }), 'c'],
      [get('h', '/c', { Cookie: 'beta=0; beta=1' }), 'c'],
      [get('h', '/c', { Cookie: 'beta=0; flag' }), null],
      [get('h', '/c', { cookie: 'Beta=1' }), null],
    ]);
  });

  it('never resolves to an upstream without a route (split / mirror target only)', () => {
    const r = parseConfig({
      listen: { tls: { cert: 'c.pem', key: 'k.pem' } },
      upstream: {
        main: { route: { path_prefix: '/x' }, backends: [{ id: 'b', address: 'http://127.0.0.1:1' }], traffic_split: [{ upstream: 'aaa', weight: 1 }] },
        aaa: { backends: [{ id: 'b', address: 'http://127.0.0.1:2' }] },
      },
    });
    assert.ok(r.ok);
    expectRoutes(r.config, [
      [get('h', '/x'), 'main'],
      [get('h', '/'), null],
    ]);
  });
});

describe('reference router: precedence', () => {
  it('1. the longest prefix wins, before any host rule', () => {
    const c = routes({ hosted: { host: 'a.example', path_prefix: '/api' }, anyhost: { path_prefix: '/api/v1' } });
    expectRoutes(c, [
      [get('a.example', '/api/v1/x'), 'anyhost'],
      [get('a.example', '/api/v2'), 'hosted'],
    ]);
  });

  it('2. host-specific over host-agnostic', () => {
    const c = routes({ aaa: { path_prefix: '/api' }, zzz: { host: '*.example', path_prefix: '/api' } });
    expectRoutes(c, [
      [get('a.example', '/api'), 'zzz'],
      [get('other', '/api'), 'aaa'],
    ]);
  });

  it('3. exact host over wildcard', () => {
    const c = routes({ aaa: { host: '*.example' }, zzz: { host: 'a.example' } });
    expectRoutes(c, [
      [get('a.example', '/'), 'zzz'],
      [get('b.example', '/'), 'aaa'],
    ]);
  });

  it('4. the longer wildcard', () => {
    const c = routes({ aaa: { host: '*.example.com' }, zzz: { host: '*.b.example.com' } });
    expectRoutes(c, [
      [get('x.b.example.com', '/'), 'zzz'],
      [get('b.example.com', '/'), 'aaa'],
    ]);
  });

  it('5. method-specific over any-method', () => {
    const c = routes({ aaa: { host: 'h' }, zzz: { host: 'h', method: 'GET' } });
    expectRoutes(c, [
      [get('h', '/'), 'zzz'],
      [{ method: 'PUT', host: 'h', path: '/' }, 'aaa'],
    ]);
  });

  it('6. header / query / cookie constrained over unconstrained', () => {
    for (const field of ['headers', 'query', 'cookies'] as const) {
      const c = routes({ aaa: { method: 'GET' }, zzz: { method: 'GET', [field]: [{ name: 'k', present: true }] } });
      const hit: ProbeRequest =
        field === 'headers' ? get('h', '/', { k: 'v' }) : field === 'query' ? get('h', '/?k=v') : get('h', '/', { cookie: 'k=v' });
      expectRoutes(c, [
        [hit, 'zzz'],
        [get('h', '/'), 'aaa'],
      ]);
    }
  });

  it('7. the lexically smaller upstream name', () => {
    const c = routes({ bbb: { headers: [{ name: 'x-b', present: true }] }, aab: { headers: [{ name: 'x-a', present: true }] } });
    expectRoutes(c, [
      [get('h', '/', { 'x-a': '1', 'x-b': '1' }), 'aab'],
      [get('h', '/', { 'x-b': '1' }), 'bbb'],
    ]);
  });

  it('applies the rules in order: an earlier rule decides before a later one', () => {
    // method-specific wildcard vs any-method exact: exact wins (rule 3 before rule 5).
    const c = routes({
      a1: { host: '*.example', method: 'GET', headers: [{ name: 'x', present: true }] },
      z9: { host: 'a.example' },
    });
    expectRoutes(c, [[get('a.example', '/', { x: '1' }), 'z9']]);
  });
});
