/**
 * Route lookup micro-benchmark: ns per RouteTable.lookup (plus the per-request
 * RequestAttributes it is given) at 10, 1 000 and 10 000 routes, a realistic mix of exact
 * hosts, wildcard hosts, host-agnostic prefixes, method-specific and a few matcher routes.
 * Requests cycle over 256 precomputed targets (hits on every kind, fallbacks to the catch-all).
 *
 *   node bench/src/route-lookup.bench.ts
 *
 * Prints a table (median and best of ROUNDS timed rounds after a warm-up, CPU time and wall
 * time per op) and the 10k/10 ratio of the CPU medians.
 */
import type { Matcher, Route } from '@spooky/config';
import type { HeaderList } from '../../dataplane/src/http/exchange.ts';
import { matchingPath } from '../../dataplane/src/routing/match-path.ts';
import { RequestAttributes } from '../../dataplane/src/routing/request-attributes.ts';
import { compileRouteTable, type RouteInput, type RouteTable } from '../../dataplane/src/routing/route-table.ts';

const SIZES = [10, 1_000, 10_000];
const WARMUP = 300_000;
const OPS_PER_ROUND = 1_000_000;
const ROUNDS = 7;

interface Probe {
  readonly host: string | null;
  readonly target: string;
  readonly path: string;
  readonly method: string;
  readonly headers: HeaderList;
}

const route = (host: string | null, path_prefix: string, method: string | null = null, headers: Matcher[] = [], cookies: Matcher[] = []): Route => ({
  host,
  path_prefix,
  method,
  headers,
  query: [],
  cookies,
});

/** Route i of a table: 60 % exact hosts, 15 % wildcards, 20 % host-agnostic, 5 % with matchers. */
function routeAt(i: number): { input: RouteInput; probe: Omit<Probe, 'path' | 'headers'> & { extra?: HeaderList } } {
  const r = i % 20;
  const upstream = `u${i}`;
  if (r < 12) {
    const host = `h${i >> 2}.example.com`;
    const prefix = ['/', '/api', '/api/v2', '/static'][i & 3] as string;
    const method = r === 5 ? 'GET' : null;
    return { input: { upstream, route: route(host, prefix, method) }, probe: { host, target: `${prefix === '/' ? '' : prefix}/items/42?page=2`, method: 'GET' } };
  }
  if (r < 15) {
    const prefix = r === 13 ? '/app' : '/';
    return { input: { upstream, route: route(`*.t${i}.example.net`, prefix) }, probe: { host: `a.b.t${i}.example.net`, target: '/app/page/1', method: 'GET' } };
  }
  if (r < 19) {
    const admin = r === 17;
    const prefix = admin ? `/svc${i}/admin` : `/svc${i}`;
    return { input: { upstream, route: route(null, prefix, admin ? 'POST' : null) }, probe: { host: 'unknown.org', target: `${prefix}/users/7`, method: admin ? 'POST' : 'GET' } };
  }
  return {
    input: { upstream, route: route(null, `/svc${i}`, null, [{ name: 'x-tenant', exact: 'blue' }], [{ name: 'beta', present: true }]) },
    probe: { host: 'unknown.org', target: `/svc${i}/feature`, method: 'GET', extra: [['x-tenant', 'blue'], ['cookie', 'sid=abc; beta=1']] },
  };
}

const BASE_HEADERS: HeaderList = [
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) bench'],
  ['accept', 'text/html,application/xhtml+xml'],
  ['accept-encoding', 'gzip, br'],
  ['accept-language', 'en-US,en;q=0.9'],
  ['cookie', 'sid=abc'],
];

function build(size: number): { table: RouteTable; probes: Probe[] } {
  const inputs: RouteInput[] = [{ upstream: 'default', route: route(null, '/') }];
  const candidates: Probe[] = [];
  for (let i = 0; i < size - 1; i++) {
    const { input, probe } = routeAt(i);
    inputs.push(input);
    candidates.push({ host: probe.host, target: probe.target, path: matchingPath(probe.target), method: probe.method, headers: [...BASE_HEADERS, ...(probe.extra ?? [])] });
  }
  const probes: Probe[] = [];
  for (let k = 0; k < 256; k++) {
    if (k % 8 === 7) {
      // a miss on every specific route: falls back to the catch-all
      probes.push({ host: `nohost${k}.example.org`, target: '/nothing/here?q=1', path: '/nothing/here', method: 'GET', headers: BASE_HEADERS });
      continue;
    }
    probes.push(candidates[(k * 7919) % candidates.length] as Probe);
  }
  return { table: compileRouteTable(inputs), probes };
}

let sink = 0;

/**
 * ns/op of one round in CPU time (user + system of this process), which a busy shared machine
 * distorts far less than wall time; the wall-clock figure is kept for comparison.
 */
function round(table: RouteTable, probes: Probe[], ops: number): { cpu: number; wall: number } {
  const mask = probes.length - 1;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let n = 0; n < ops; n++) {
    const p = probes[n & mask] as Probe;
    const hit = table.lookup(p.host, p.path, p.method, new RequestAttributes(p.headers, p.target));
    if (hit !== null) sink += hit.pathPrefix.length;
  }
  const wall = Number(process.hrtime.bigint() - start) / ops;
  const cpu = process.cpuUsage(cpu0);
  return { cpu: ((cpu.user + cpu.system) * 1000) / ops, wall };
}

function measure(size: number): { median: number; best: number; wall: number; hits: string } {
  const { table, probes } = build(size);
  const matched = probes.filter((p) => table.lookup(p.host, p.path, p.method, new RequestAttributes(p.headers, p.target))?.upstream !== 'default').length;
  round(table, probes, WARMUP);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = round(table, probes, OPS_PER_ROUND);
    cpu.push(t.cpu);
    wall.push(t.wall);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const mid = Math.floor(ROUNDS / 2);
  return { median: cpu[mid] as number, best: cpu[0] as number, wall: wall[mid] as number, hits: `${matched}/${probes.length}` };
}

const results = SIZES.map((size) => ({ size, ...measure(size) }));
console.log(`route lookup (node ${process.version}, ${OPS_PER_ROUND.toLocaleString('en')} ops × ${ROUNDS} rounds after ${WARMUP.toLocaleString('en')} warm-up)`);
console.log('| routes | CPU ns/op (median) | CPU ns/op (best) | wall ns/op (median) | probes routed past the catch-all |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  console.log(`| ${r.size.toLocaleString('en')} | ${r.median.toFixed(0)} | ${r.best.toFixed(0)} | ${r.wall.toFixed(0)} | ${r.hits} |`);
}
const small = results[0];
const large = results.at(-1);
if (small && large) console.log(`ratio ${large.size}/${small.size} (median): ${(large.median / small.median).toFixed(2)}×`);
if (sink === -1) console.log('unreachable');
