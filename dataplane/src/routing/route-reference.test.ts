/**
 * Property: the compiled route index picks the same upstream as the reference resolver
 * (config/src/route-reference.ts, the spec in code) for random small configs and requests.
 * Requests name each header, query parameter and cookie at most once: on repeated names the
 * data plane lets any value match while the reference reads one value (documented there).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Config, parseConfig, referenceResolver } from '@spooky/config';
import fc from 'fast-check';
import type { HeaderList } from '../http/exchange.ts';
import { normalizeRequestHost } from '../http/request-host.ts';
import { matchingPath } from './match-path.ts';
import { RequestAttributes } from './request-attributes.ts';
import { compileRouteTable, type RouteInput } from './route-table.ts';

const HOSTS = [undefined, 'a.test', 'b.a.test', '*.a.test', '*.b.a.test', '*.test', 'c.test'];
const PREFIXES = ['/', '/x', '/x/y', '/y', '/x/y/z', '/X', '/x%2Fy', '/%78'];
const METHODS = [undefined, 'GET', 'POST'];
const VALUES = ['v1', 'v2', 'vv', '', 'v 1'];

const matcherKind = fc.oneof(
  fc.constantFrom(...VALUES).map((exact) => ({ exact })),
  fc.constantFrom('v', 'v1').map((prefix) => ({ prefix })),
  fc.boolean().map((present) => ({ present })),
  fc.constantFrom('v[0-9]', 'v.*', 'v 1|vv').map((regex) => ({ regex })),
);
const matchers = (names: string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: someMatchers(names) });
const someMatchers = (names: string[]) =>
  fc.uniqueArray(fc.record({ name: fc.constantFrom(...names), kind: matcherKind }), { minLength: 1, maxLength: 2, selector: (m) => m.name }).map((ms) => ms.map((m) => ({ name: m.name, ...m.kind })));

const routeInput = fc.record(
  {
    host: fc.constantFrom(...HOSTS),
    path_prefix: fc.constantFrom(...PREFIXES),
    method: fc.constantFrom(...METHODS),
    headers: matchers(['x-a', 'X-B']),
    query: matchers(['q', 'r']),
    cookies: matchers(['c', 'd']),
  },
  { requiredKeys: [] },
);

const upstreams = fc.uniqueArray(fc.record({ name: fc.constantFrom('u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'a', 'B', 'z'), route: fc.option(routeInput, { nil: undefined, freq: 6 }) }), {
  minLength: 1,
  maxLength: 8,
  selector: (u) => u.name,
});

const pairs = (names: string[]) => fc.uniqueArray(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...VALUES)), { maxLength: 3, selector: (p) => p[0] });

const request = fc.record({
  host: fc.constantFrom('a.test', 'b.a.test', 'x.b.a.test', 'c.test', 'A.Test', 'd.test', '', 'a.test:443', 'test', 'x.c.test.'),
  path: fc.constantFrom('/', '/x', '/x/', '/x/y', '/xy', '/x/y/z/w', '/y', '/X/1', '/%78/y', '/x%2Fy', '/x/%79'),
  method: fc.constantFrom('GET', 'POST', 'put'),
  headers: pairs(['x-a', 'x-b', 'x-c']),
  query: pairs(['q', 'r', 's']),
  cookies: pairs(['c', 'd', 'e']),
});

function configOf(list: Array<{ name: string; route: unknown }>): Config | null {
  const upstream: Record<string, unknown> = {};
  for (const u of list) upstream[u.name] = { ...(u.route === undefined ? {} : { route: u.route }), backends: [{ id: 'a', address: 'http://127.0.0.1:1' }] };
  const parsed = parseConfig({ listen: { address: '127.0.0.1', port: 9889, tls: { cert: 'c', key: 'k' } }, upstream });
  return parsed.ok ? parsed.config : null;
}

function routesOf(config: Config): RouteInput[] {
  const out: RouteInput[] = [];
  for (const [name, up] of Object.entries(config.upstream)) if (up.route) out.push({ upstream: name, route: up.route });
  return out;
}

test('compiled index agrees with resolveReference', () => {
  let routed = 0;
  let checked = 0;
  let rejected = 0;
  fc.assert(
    fc.property(upstreams, fc.array(request, { minLength: 1, maxLength: 12 }), (list, requests) => {
      const config = configOf(list);
      if (config === null) {
        rejected++;
        return;
      }
      const table = compileRouteTable(routesOf(config));
      const reference = referenceResolver(config);
      for (const req of requests) {
        const search = new URLSearchParams(req.query).toString();
        const target = search === '' ? req.path : `${req.path}?${search}`;
        const headers: HeaderList = req.headers.map(([n, v]) => [n, v]);
        if (req.cookies.length > 0) headers.push(['cookie', req.cookies.map(([n, v]) => `${n}=${v}`).join('; ')]);
        const expected = reference({ method: req.method, host: req.host, path: target, headers: Object.fromEntries(headers) });
        const host = req.host === '' ? null : normalizeRequestHost(req.host);
        const path = matchingPath(target);
        const attrs = new RequestAttributes(headers, target);
        const got = table.lookup(host, path, req.method.toUpperCase(), attrs);
        assert.equal(got?.upstream ?? null, expected, `${req.method} ${req.host} ${target} ${JSON.stringify(headers)}`);
        assert.equal(table.explain(host, path, req.method.toUpperCase(), attrs).winner?.upstream ?? null, expected, 'explain agrees');
        checked++;
        if (expected !== null) routed++;
      }
    }),
    { numRuns: 400 },
  );
  assert.ok(rejected < 100, `most generated configs are valid (${rejected} rejected)`);
  assert.ok(routed > checked / 8, `enough requests routed to be meaningful (${routed}/${checked})`);
});

// Wider tables for the index itself (no matchers): deeper hosts and wildcards, multi-segment and
// long prefixes (past the 29-character length mask), paths with trailing or doubled slashes.
const SEGMENTS = ['a', 'b', 'ab', 'api', 'v1', 'x', 'long-segment-of-the-path'];
const segmentPath = (min: number) => fc.array(fc.constantFrom(...SEGMENTS), { minLength: min, maxLength: 4 }).map((s) => `/${s.join('/')}`);
const WIDE_HOSTS = ['c.test', 'b.c.test', 'a.b.c.test', 'd.test', 'test', 'x.y.z.c.test'];
const wideRoute = fc.record({
  host: fc.oneof(fc.constant(null), fc.constantFrom(...WIDE_HOSTS), fc.constantFrom(...WIDE_HOSTS).map((h) => `*.${h}`)),
  path_prefix: segmentPath(0),
  method: fc.constantFrom(null, 'GET', 'POST'),
});
const wideRequest = fc.record({
  host: fc.oneof(fc.constant(''), fc.constantFrom(...WIDE_HOSTS, 'q.a.b.c.test', 'e.d.test', 'other.org')),
  path: fc.tuple(segmentPath(0), fc.constantFrom('', '/', '//x', 'x', '?q=1')).map(([p, tail]) => `${p}${tail}`),
  method: fc.constantFrom('GET', 'POST'),
});

test('compiled index agrees with resolveReference on wider tables', () => {
  fc.assert(
    fc.property(fc.array(wideRoute, { minLength: 1, maxLength: 40 }), fc.array(wideRequest, { minLength: 1, maxLength: 20 }), (routes, requests) => {
      const upstream: Record<string, unknown> = {};
      routes.forEach((route, i) => {
        upstream[`u${String(i).padStart(2, '0')}`] = { route: { ...route, headers: [], query: [], cookies: [] }, backends: [] };
      });
      // The reference reads only the routes; a hand-built config keeps duplicate routes in.
      const config = { upstream } as unknown as Config;
      const table = compileRouteTable(routesOf(config));
      const reference = referenceResolver(config);
      for (const req of requests) {
        const expected = reference({ method: req.method, host: req.host, path: req.path });
        const host = req.host === '' ? null : normalizeRequestHost(req.host);
        const got = table.lookup(host, matchingPath(req.path), req.method);
        assert.equal(got?.upstream ?? null, expected, `${req.method} ${req.host} ${req.path}`);
      }
    }),
    { numRuns: 500 },
  );
});
