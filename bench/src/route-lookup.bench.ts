/**
 * Route lookup micro-benchmark: ns per RouteTable.lookup (plus the per-request
 * RequestAttributes it is given) at 10, 1 000 and 10 000 routes.
 *
 *   node bench/src/route-lookup.bench.ts [--baseline <dir>] [--sizes 10,1000,10000] [--rounds 7] [--ops 1000000]
 *
 * Fairness: every table size is exercised by the same request mix. Routes are generated in an
 * interleaved kind order (exact host, wildcard, host-agnostic, POST-only, matchers) so even the
 * 10-route table holds every kind, and the 256 requests follow one fixed kind pattern whatever
 * the size (60 % exact-host hits, 15 % wildcard, 15 % host-agnostic, 5 % POST-only, 5 %
 * matchers; 1 in 8 requests misses every specific route and falls back to the catch-all).
 * Each request is its own object with its own strings (distinct path tails), so the
 * request-side memory touched is the same at every size; only the table grows.
 *
 * Timing: every table is built and warmed up first, then ROUNDS rounds each run OPS lookups
 * on every (size, implementation) in turn, so load drifting over the run hits all columns
 * alike. CPU time of the process per op (user + system; a busy shared machine distorts it less
 * than wall time), median and best of the rounds.
 * `--baseline <dir>`: a saved copy of route-table.ts + request-attributes.ts (e.g. the previous
 * version, with its imports fixed up) measured in the same process, in the same interleaving.
 */
import path from 'node:path';
import type { Matcher, Route } from '@spooky/config';
import type { HeaderList } from '../../dataplane/src/http/exchange.ts';
import { matchingPath } from '../../dataplane/src/routing/match-path.ts';
import { RequestAttributes, type RouteAttributes } from '../../dataplane/src/routing/request-attributes.ts';
import { compileRouteTable, type RouteInput } from '../../dataplane/src/routing/route-table.ts';
import { parseBenchArgs } from './proxy/bench-args.ts';

const USAGE = 'usage: node bench/src/route-lookup.bench.ts [--baseline DIR] [--sizes 10,1000,10000] [--rounds 7] [--ops 1000000]';
const args = parseBenchArgs({ baseline: { type: 'string' }, sizes: { type: 'string', default: '10,1000,10000' }, rounds: { type: 'string', default: '7' }, ops: { type: 'string', default: '1000000' } }, USAGE);
const SIZES = args.sizes.split(',').map(Number);
const ROUNDS = Number(args.rounds);
const OPS = Number(args.ops);
const WARMUP = Math.max(100_000, OPS * 0.3);
const PROBES = 256;

interface Lookup {
  lookup(host: string | null, path: string, method: string, attrs?: RouteAttributes): { readonly pathPrefix: string; readonly upstream: string } | null;
}
interface Impl {
  readonly name: string;
  compile(routes: RouteInput[]): Lookup;
  attributes(headers: HeaderList, target: string): RouteAttributes;
}

interface Probe {
  readonly host: string | null;
  readonly target: string;
  readonly path: string;
  readonly method: string;
  readonly headers: HeaderList;
}

/** Route kinds, interleaved so any 9 consecutive positions hold every kind (12 E, 3 W, 3 A, 1 P, 1 M per 20). */
const KINDS = 'EWEAEMEPEWEAEEWEAEEE';
type Kind = 'E' | 'W' | 'A' | 'P' | 'M';

const route = (host: string | null, path_prefix: string, method: string | null = null, headers: Matcher[] = [], cookies: Matcher[] = []): Route => ({
  host,
  path_prefix,
  method,
  headers,
  query: [],
  cookies,
});

/** A distinct copy of `s` (a flat string, like one decoded from the network). */
const fresh = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');

const BASE_HEADERS: HeaderList = [
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) bench'],
  ['accept', 'text/html,application/xhtml+xml'],
  ['accept-encoding', 'gzip, br'],
  ['accept-language', 'en-US,en;q=0.9'],
  ['cookie', 'sid=abc'],
];

/** Route i (by kind ordinal n) and a request `k` that hits it. */
function routeOf(kind: Kind, i: number, n: number): { input: RouteInput; probe: (k: number) => Probe } {
  const upstream = `u${i}`;
  const req = (host: string | null, target: string, method = 'GET', extra: HeaderList = []): Probe => ({
    host: host === null ? null : fresh(host),
    target,
    path: matchingPath(target),
    method: fresh(method),
    headers: [...BASE_HEADERS, ...extra].map(([name, value]) => [fresh(name), fresh(value)]),
  });
  switch (kind) {
    case 'E': {
      const host = `h${n >> 2}.example.com`;
      const prefix = ['/', '/api', '/api/v2', '/static'][n & 3] as string;
      const method = n % 12 === 5 ? 'GET' : null;
      const base = prefix === '/' ? '' : prefix;
      return { input: { upstream, route: route(host, prefix, method) }, probe: (k) => req(host, `${base}/items/${k}?page=2`) };
    }
    case 'W':
      return { input: { upstream, route: route(`*.t${i}.example.net`, n % 3 === 1 ? '/app' : '/') }, probe: (k) => req(`a.b.t${i}.example.net`, `/app/page/${k}`) };
    case 'A':
      return { input: { upstream, route: route(null, `/svc${i}`) }, probe: (k) => req('unknown.org', `/svc${i}/users/${k}`) };
    case 'P':
      return { input: { upstream, route: route(null, `/svc${i}/admin`, 'POST') }, probe: (k) => req('unknown.org', `/svc${i}/admin/users/${k}`, 'POST') };
    case 'M':
      return {
        input: { upstream, route: route(null, `/svc${i}`, null, [{ name: 'x-tenant', exact: 'blue' }], [{ name: 'beta', present: true }]) },
        probe: (k) => req('unknown.org', `/svc${i}/feature/${k}`, 'GET', [['x-tenant', 'blue'], ['cookie', 'sid=abc; beta=1']]),
      };
  }
}

function build(size: number): { routes: RouteInput[]; probes: Probe[] } {
  const routes: RouteInput[] = [{ upstream: 'default', route: route(null, '/') }];
  const byKind = new Map<Kind, Array<(k: number) => Probe>>();
  const count = new Map<string, number>();
  for (let i = 0; i < size - 1; i++) {
    const kind = KINDS[i % KINDS.length] as Kind;
    const n = count.get(kind) ?? 0;
    count.set(kind, n + 1);
    const { input, probe } = routeOf(kind, i, n);
    routes.push(input);
    byKind.set(kind, [...(byKind.get(kind) ?? []), probe]);
  }
  const probes: Probe[] = [];
  let hit = 0;
  for (let k = 0; k < PROBES; k++) {
    if (k % 8 === 7) {
      probes.push({ host: fresh(`nohost${k}.example.org`), target: `/nothing/here/${k}?q=1`, path: `/nothing/here/${k}`, method: fresh('GET'), headers: BASE_HEADERS.map(([n, v]) => [fresh(n), fresh(v)]) });
      continue;
    }
    // The same kind sequence at every size; the route within the kind spreads over the table.
    const kinds = byKind.get(KINDS[hit % KINDS.length] as Kind) as Array<(k: number) => Probe>;
    probes.push((kinds[(hit * 7919) % kinds.length] as (k: number) => Probe)(k));
    hit++;
  }
  return { routes, probes };
}

let sink = 0;

function round(table: Lookup, impl: Impl, probes: Probe[], ops: number): { cpu: number; wall: number } {
  const mask = probes.length - 1;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let n = 0; n < ops; n++) {
    const p = probes[n & mask] as Probe;
    const hit = table.lookup(p.host, p.path, p.method, impl.attributes(p.headers, p.target));
    if (hit !== null) sink += hit.pathPrefix.length;
  }
  const wall = Number(process.hrtime.bigint() - start) / ops;
  const cpu = process.cpuUsage(cpu0);
  return { cpu: ((cpu.user + cpu.system) * 1000) / ops, wall };
}

interface Result {
  readonly median: number;
  readonly best: number;
  readonly wall: number;
  readonly routed: string;
}

interface Case {
  readonly size: number;
  readonly impl: Impl;
  readonly table: Lookup;
  readonly probes: Probe[];
  readonly cpu: number[];
  readonly wall: number[];
}

/** Every (size, implementation) case, warmed up, then timed in interleaved rounds. */
function measure(sizes: number[], impls: Impl[]): Map<Case, Result> {
  const cases: Case[] = [];
  for (const size of sizes) {
    const { routes, probes } = build(size);
    for (const impl of impls) cases.push({ size, impl, table: impl.compile(routes), probes, cpu: [], wall: [] });
  }
  for (const c of cases) round(c.table, c.impl, c.probes, WARMUP);
  // Round r runs every case once, so load drifting over the run hits every column alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      const t = round(c.table, c.impl, c.probes, OPS);
      c.cpu.push(t.cpu);
      c.wall.push(t.wall);
    }
  }
  const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const out = new Map<Case, Result>();
  for (const c of cases) {
    const routed = c.probes.filter((p) => c.table.lookup(p.host, p.path, p.method, c.impl.attributes(p.headers, p.target))?.upstream !== 'default').length;
    out.set(c, { median: mid(c.cpu), best: Math.min(...c.cpu), wall: mid(c.wall), routed: `${routed}/${c.probes.length}` });
  }
  return out;
}

const current: Impl = { name: 'current', compile: (routes) => compileRouteTable(routes), attributes: (h, t) => new RequestAttributes(h, t) };
const impls: Impl[] = [current];
if (args.baseline !== undefined) {
  const dir = path.resolve(args.baseline);
  const table = (await import(path.join(dir, 'route-table.ts'))) as { compileRouteTable(routes: RouteInput[]): Lookup };
  const attrs = (await import(path.join(dir, 'request-attributes.ts'))) as { RequestAttributes: new (h: HeaderList, t: string) => RouteAttributes };
  impls.push({ name: 'baseline', compile: (routes) => table.compileRouteTable(routes), attributes: (h, t) => new attrs.RequestAttributes(h, t) });
}

const measured = measure(SIZES, impls);
const resultOf = (size: number, impl: Impl): Result => [...measured].find(([c]) => c.size === size && c.impl === impl)?.[1] as Result;
console.log(`route lookup (node ${process.version}, ${OPS.toLocaleString('en')} ops × ${ROUNDS} interleaved rounds after ${WARMUP.toLocaleString('en')} warm-up, ${PROBES} requests)`);
console.log(`| routes | ${impls.map((i) => `${i.name} CPU ns/op (median) | ${i.name} best | ${i.name} wall (median)`).join(' | ')} | routed past the catch-all |`);
console.log(`| ---: | ${impls.map(() => '---: | ---: | ---:').join(' | ')} | ---: |`);
for (const size of SIZES) {
  const rs = impls.map((impl) => resultOf(size, impl));
  console.log(`| ${size.toLocaleString('en')} | ${rs.map((x) => `${x.median.toFixed(0)} | ${x.best.toFixed(0)} | ${x.wall.toFixed(0)}`).join(' | ')} | ${rs[0]?.routed} |`);
}
for (const impl of impls) {
  const small = resultOf(SIZES[0] as number, impl);
  const large = resultOf(SIZES.at(-1) as number, impl);
  console.log(`${impl.name}: ratio ${SIZES.at(-1)}/${SIZES[0]} (median) ${(large.median / small.median).toFixed(2)}×`);
}
if (sink === -1) console.log('unreachable');
