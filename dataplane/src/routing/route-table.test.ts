import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Route } from '@spooky/config';
import { normalizeRequestHost } from '../http/request-host.ts';
import { matchingPath } from './match-path.ts';
import { compileRouteTable } from './route-table.ts';

const r = (host: string | null, path_prefix: string, method: string | null = null): Route => ({ host, path_prefix, method, headers: [], query: [], cookies: [] });

const table = compileRouteTable([
  { upstream: 'root', route: r(null, '/') },
  { upstream: 'api', route: r(null, '/api') },
  { upstream: 'api-v1', route: r(null, '/api/v1') },
  { upstream: 'api-post', route: r(null, '/api', 'POST') },
  { upstream: 'exact', route: r('example.com', '/') },
  { upstream: 'exact-docs', route: r('example.com', '/docs') },
  { upstream: 'wild', route: r('*.example.com', '/') },
  { upstream: 'wild-deep', route: r('*.eu.example.com', '/') },
  { upstream: 'wild-img', route: r('*.img.example.net', '/img') },
  { upstream: 'b-tie', route: r('tie.test', '/x') },
  { upstream: 'a-tie', route: r('tie.test', '/x') },
  { upstream: 'z-method', route: r('tie.test', '/x', 'GET') },
  { upstream: 'encoded', route: r(null, '/caf%C3%A9') },
]);

const cases: Array<[desc: string, host: string | null, target: string, method: string, expected: string | null]> = [
  ['root catches everything', null, '/anything', 'GET', 'root'],
  ['root on /', null, '/', 'GET', 'root'],
  ['prefix exact', null, '/api', 'GET', 'api'],
  ['prefix with sub-path', null, '/api/x', 'GET', 'api'],
  ['prefix with query', null, '/api?q=1', 'GET', 'api'],
  ['prefix with trailing slash', null, '/api/', 'GET', 'api'],
  ['no match inside a segment', null, '/apix', 'GET', 'root'],
  ['longest prefix wins', null, '/api/v1/users', 'GET', 'api-v1'],
  ['longest prefix, boundary', null, '/api/v10', 'GET', 'api'],
  ['method-specific over any-method', null, '/api/x', 'POST', 'api-post'],
  ['method-specific only for its method', null, '/api/x', 'PUT', 'api'],
  ['longer prefix beats method-specific shorter', null, '/api/v1', 'POST', 'api-v1'],
  ['exact host', 'example.com', '/', 'GET', 'exact'],
  ['exact host longest prefix', 'example.com', '/docs/a', 'GET', 'exact-docs'],
  ['longest prefix wins across host buckets', 'example.com', '/api/v1', 'GET', 'api-v1'],
  ['exact host wins on equal prefix', 'example.com', '/', 'GET', 'exact'],
  ['wildcard one level', 'www.example.com', '/', 'GET', 'wild'],
  ['wildcard any depth', 'a.b.c.example.com', '/', 'GET', 'wild'],
  ['wildcard never the apex', 'example.com', '/x', 'GET', 'exact'],
  ['longer wildcard wins', 'x.eu.example.com', '/', 'GET', 'wild-deep'],
  ['longer wildcard not for its apex', 'eu.example.com', '/', 'GET', 'wild'],
  ['wildcard path miss falls through to host-agnostic', 'a.img.example.net', '/other', 'GET', 'root'],
  ['wildcard path hit', 'a.img.example.net', '/img/1.png', 'GET', 'wild-img'],
  ['wildcard apex falls through', 'img.example.net', '/img', 'GET', 'root'],
  ['suffix must be on a label boundary', 'badexample.com', '/', 'GET', 'root'],
  ['unknown host uses host-agnostic', 'other.org', '/api', 'GET', 'api'],
  ['tie: method-specific first', 'tie.test', '/x', 'GET', 'z-method'],
  ['tie: lexically smaller upstream', 'tie.test', '/x', 'HEAD', 'a-tie'],
  ['tie host path miss → host-agnostic', 'tie.test', '/y', 'GET', 'root'],
  ['percent-decoded unreserved', null, '/%61pi/v%31', 'GET', 'api-v1'],
  ['percent-decoded lowercase hex', null, '/%61%70%69', 'GET', 'api'],
  ['reserved escapes stay encoded', null, '/caf%C3%A9/menu', 'GET', 'encoded'],
];

describe('route table precedence', () => {
  for (const [desc, host, target, method, expected] of cases) {
    test(desc, () => {
      const hit = table.lookup(host, matchingPath(target), method);
      assert.equal(hit?.upstream ?? null, expected);
    });
  }

  test('no host-agnostic route → null', () => {
    const t = compileRouteTable([{ upstream: 'only', route: r('a.test', '/app') }]);
    assert.equal(t.lookup('a.test', '/other', 'GET'), null);
    assert.equal(t.lookup(null, '/app', 'GET'), null);
    assert.equal(t.lookup('a.test', '/app/z', 'GET')?.upstream, 'only');
  });

  test('deterministic regardless of declaration order', () => {
    const routes = [
      { upstream: 'b', route: r(null, '/p') },
      { upstream: 'a', route: r(null, '/p') },
      { upstream: 'c', route: r(null, '/p', 'GET') },
    ];
    const t1 = compileRouteTable(routes);
    const t2 = compileRouteTable([...routes].reverse());
    for (const m of ['GET', 'POST']) assert.equal(t1.lookup(null, '/p', m)?.upstream, t2.lookup(null, '/p', m)?.upstream);
    assert.equal(t1.lookup(null, '/p', 'POST')?.upstream, 'a');
  });

  test('10k routes: lookups stay cheap (no linear scan)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ upstream: `u${i}`, route: r(`h${i}.test`, `/p${i}`) }));
    const t = compileRouteTable(many);
    assert.equal(t.lookup('h9999.test', '/p9999/x', 'GET')?.upstream, 'u9999');
    assert.equal(t.lookup('h9999.test', '/p9998', 'GET'), null);
  });
});

describe('request host normalisation', () => {
  const hosts: Array<[string, string | null]> = [
    ['Example.COM', 'example.com'],
    ['  example.com  ', 'example.com'],
    ['example.com:8443', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com..:443', 'example.com'],
    ['[::1]:443', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['', null],
    ['.', null],
  ];
  for (const [raw, expected] of hosts) {
    test(JSON.stringify(raw), () => assert.equal(normalizeRequestHost(raw), expected));
  }
});

describe('matching path', () => {
  const paths: Array<[string, string]> = [
    ['/a?b=c', '/a'],
    ['/a#frag', '/a'],
    ['/%7Euser', '/~user'],
    ['/%2Fslash', '/%2Fslash'],
    ['/%zz', '/%zz'],
    ['/50%', '/50%'],
    ['/a%2', '/a%2'],
  ];
  for (const [target, expected] of paths) test(target, () => assert.equal(matchingPath(target), expected));
});
