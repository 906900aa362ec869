/**
 * Every tie-break rule of DATAPLANE.md "Routing", one table row each: two (or more) routes
 * that match the same request and differ on exactly that rule. Checked against lookup (the
 * fast index) and explain (the decision trace names the deciding rule), in both declaration
 * orders.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Matcher, Route } from '@spooky/config';
import { RequestAttributes } from './request-attributes.ts';
import type { TieBreakRule } from './route-rank.ts';
import { compileRouteTable, type RouteInput } from './route-table.ts';

function route(upstream: string, host: string | null, path_prefix: string, method: string | null = null, headers: Matcher[] = []): RouteInput {
  const r: Route = { host, path_prefix, method, headers, query: [], cookies: [] };
  return { upstream, route: r };
}

interface Row {
  readonly rule: TieBreakRule;
  readonly routes: RouteInput[];
  readonly request: { host: string | null; path: string; method?: string; headers?: Array<[string, string]> };
  readonly winner: string;
}

const rows: Row[] = [
  {
    rule: 'longest_prefix',
    routes: [route('a-short', 'x.test', '/a'), route('z-long', null, '/a/b')],
    request: { host: 'x.test', path: '/a/b/c' },
    winner: 'z-long',
  },
  {
    rule: 'longest_prefix',
    routes: [route('a-exact', 'x.test', '/'), route('z-wild', '*.test', '/a')],
    request: { host: 'x.test', path: '/a' },
    winner: 'z-wild',
  },
  {
    rule: 'host_specific',
    routes: [route('a-any', null, '/p'), route('z-host', 'x.test', '/p')],
    request: { host: 'x.test', path: '/p' },
    winner: 'z-host',
  },
  {
    rule: 'host_specific',
    routes: [route('a-any', null, '/p', 'GET', [{ name: 'x', present: true }]), route('z-wild', '*.test', '/p')],
    request: { host: 'x.test', path: '/p', headers: [['x', '1']] },
    winner: 'z-wild',
  },
  {
    rule: 'exact_host',
    routes: [route('a-wild', '*.x.test', '/p', 'GET'), route('z-exact', 'a.x.test', '/p')],
    request: { host: 'a.x.test', path: '/p' },
    winner: 'z-exact',
  },
  {
    rule: 'longer_wildcard',
    routes: [route('a-short', '*.test', '/p', 'GET'), route('z-long', '*.b.test', '/p')],
    request: { host: 'a.b.test', path: '/p' },
    winner: 'z-long',
  },
  {
    rule: 'method_specific',
    routes: [route('a-any', null, '/p', null, [{ name: 'x', present: true }]), route('z-get', null, '/p', 'GET')],
    request: { host: null, path: '/p', headers: [['x', '1']] },
    winner: 'z-get',
  },
  {
    rule: 'constrained',
    routes: [route('a-plain', 'h.test', '/p'), route('z-matcher', 'h.test', '/p', null, [{ name: 'x-tenant', exact: 'blue' }])],
    request: { host: 'h.test', path: '/p', headers: [['x-tenant', 'blue']] },
    winner: 'z-matcher',
  },
  {
    rule: 'upstream_name',
    routes: [
      route('b-two', null, '/p', null, [{ name: 'x', exact: '1' }, { name: 'y', present: true }]),
      route('a-one', null, '/p', null, [{ name: 'x', exact: '1' }]),
    ],
    request: { host: null, path: '/p', headers: [['x', '1'], ['y', '']] },
    winner: 'a-one',
  },
  {
    rule: 'upstream_name',
    routes: [route('b', null, '/p'), route('a', null, '/p')],
    request: { host: null, path: '/p' },
    winner: 'a',
  },
];

describe('tie-break rules', () => {
  for (const row of rows) {
    for (const order of ['declared', 'reversed'] as const) {
      test(`${row.rule} → ${row.winner} (${order})`, () => {
        const routes = order === 'declared' ? row.routes : [...row.routes].reverse();
        const table = compileRouteTable(routes);
        const { host, path, method = 'GET', headers = [] } = row.request;
        const attrs = new RequestAttributes(headers, path);
        assert.equal(table.lookup(host, path, method, attrs)?.upstream, row.winner);
        const decision = table.explain(host, path, method, attrs);
        assert.equal(decision.winner?.upstream, row.winner);
        assert.equal(decision.rule, row.rule);
        assert.equal(decision.candidates.length, row.routes.length);
      });
    }
  }

  test('explain: only candidate and no match', () => {
    const table = compileRouteTable([route('a', 'h.test', '/a'), route('b', null, '/b', 'POST')]);
    const one = table.explain('h.test', '/a/x', 'GET');
    assert.equal(one.rule, 'only_candidate');
    assert.equal(one.winner?.upstream, 'a');
    const none = table.explain('h.test', '/b', 'GET');
    assert.equal(none.rule, 'no_match');
    assert.equal(none.winner, null);
    assert.equal(none.narrowed, 1, 'the POST route was narrowed by host and path, then refused by method');
  });

  test('a longer prefix that fails its matcher falls back to the shorter prefix', () => {
    const table = compileRouteTable([route('short', null, '/a'), route('long', null, '/a/b', null, [{ name: 'x', exact: '1' }])]);
    assert.equal(table.lookup(null, '/a/b', 'GET', new RequestAttributes([['x', '2']], '/a/b'))?.upstream, 'short');
    assert.equal(table.lookup(null, '/a/b', 'GET', new RequestAttributes([['x', '1']], '/a/b'))?.upstream, 'long');
    assert.equal(table.lookup(null, '/a/b', 'GET')?.upstream, 'short', 'no attributes = no headers');
  });

  test('a host starting with a dot has no label before it: never matches a wildcard', () => {
    const table = compileRouteTable([route('wild', '*.example.com', '/')]);
    assert.equal(table.lookup('.example.com', '/', 'GET'), null);
    assert.equal(table.lookup('a.example.com', '/', 'GET')?.upstream, 'wild');
  });

  test('a path not starting with / matches nothing', () => {
    const table = compileRouteTable([route('root', null, '/')]);
    assert.equal(table.lookup(null, '*', 'OPTIONS'), null);
  });
});
