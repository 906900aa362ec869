/**
 * Micro-benchmark of Balancer.pick per policy at 3 and 100 backends (plain node script):
 *
 *   node bench/src/pick.bench.ts [--ms 400]
 *
 * Steady state: every backend a candidate (the shared allBackends list), no exclusions;
 * key-based policies get a rotating set of 1 024 prebuilt requests (header / connection id),
 * stateful ones see load (each pick begins a request, one in four finishes). A "+retry" row
 * measures a pick with one backend excluded, and a "degraded" row a candidate list missing one
 * backend (consistent-hash: served from its per-membership ring cache).
 * Prints CPU ns/op (median of 5 runs) as a Markdown table, then a second table for building the
 * candidates per request: CandidateFilter.current() over health handles (what the attempt loop
 * does) against the per-request string-keyed HealthMonitor.isAvailable filter it replaced.
 */
import type { LbType } from '@spooky/config';
import type { Balancer, PickContext, PickRequest, WeightedBackend } from '../../dataplane/src/balancing/balancer.ts';
import { allBackends, CandidateFilter, eligibleBackends } from '../../dataplane/src/balancing/candidates.ts';
import { createBalancer } from '../../dataplane/src/balancing/create-balancer.ts';
import { createRoundRobinState } from '../../dataplane/src/balancing/round-robin.ts';
import { HealthMonitor, type HealthSpec, healthKey } from '../../dataplane/src/health/health-monitor.ts';
import { BackendStats } from '../../dataplane/src/runtime/backend-stats.ts';

const msArg = process.argv.indexOf('--ms');
const RUN_MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 400;

const POLICIES: Array<{ type: LbType; key: string | null; label: string }> = [
  { type: 'round-robin', key: null, label: 'round-robin' },
  { type: 'random', key: null, label: 'random' },
  { type: 'consistent-hash', key: 'header:x-user', label: 'consistent-hash (header:x-user)' },
  { type: 'sticky-cid', key: null, label: 'sticky-cid' },
  { type: 'least-connections', key: null, label: 'least-connections' },
  { type: 'latency-aware', key: null, label: 'latency-aware' },
];

const REQUESTS: PickRequest[] = Array.from({ length: 1024 }, (_, i) => ({
  head: { method: 'GET', scheme: 'https', authority: 'bench.example', path: `/items/${i}`, headers: [['accept', '*/*'], ['x-user', `user-${i * 7919}`]] },
  remoteAddress: '198.51.100.7',
  remotePort: 40_000 + i,
  connectionId: `c0ffee.${i.toString(36)}`,
}));

function setup(type: LbType, key: string | null, n: number): { balancer: Balancer; stats: BackendStats[] } {
  const backends: WeightedBackend[] = Array.from({ length: n }, (_, i) => ({ address: `http://10.1.${i >> 8}.${i & 255}:8080`, weight: 100 + (i % 3) * 50 }));
  const stats = backends.map(() => new BackendStats());
  for (const [i, s] of stats.entries()) s.recordHead(200, 5 + (i % 7));
  const balancer = createBalancer({ type, key }, backends, { roundRobinState: () => createRoundRobinState(n), backendStats: stats });
  return { balancer, stats };
}

/**
 * CPU ns (user + system of the process) per pick over RUN_MS of wall time — less distorted by
 * other jobs on a shared machine than wall time; picks are consumed into a checksum so nothing
 * is optimised away.
 */
function measure(balancer: Balancer, stats: BackendStats[], candidates: readonly number[], exclude: ReadonlySet<number> | null): number {
  const contexts: PickContext[] = REQUESTS.map((request) => ({ exclude, request }));
  for (let i = 0; i < 20_000; i++) balancer.pick(candidates, contexts[i & 1023] as PickContext); // warm up (+ builds rings)
  let ops = 0;
  let sink = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(RUN_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 4096; i++) {
      const picked = balancer.pick(candidates, contexts[i & 1023] as PickContext) as number;
      sink += picked;
      const s = stats[picked] as BackendStats;
      s.begin();
      if ((i & 3) !== 0) s.end();
    }
    ops += 4096;
    now = process.hrtime.bigint();
  }
  const used = process.cpuUsage(cpu);
  for (const s of stats) while (s.active > 0) s.end();
  if (sink === -1) console.log(sink);
  return ((used.user + used.system) * 1000) / ops;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** Calibration: a do-nothing balancer through the same loop (machine speed and load). */
const baseline: Balancer = { type: 'random', pick: (candidates) => (candidates.length > 1 ? 1 : 0) };
const base = setup('random', null, 3);
const baselineNs = median(Array.from({ length: 5 }, () => measure(baseline, base.stats, allBackends(3), null)));

const rows: string[] = [];
for (const p of POLICIES) {
  const cells: string[] = [];
  for (const n of [3, 100]) {
    const { balancer, stats } = setup(p.type, p.key, n);
    const variants: Array<[readonly number[], ReadonlySet<number> | null]> = [
      [allBackends(n), null],
      [allBackends(n), new Set([0])],
      [eligibleBackends(n, (i) => i !== 1), null],
    ];
    for (const [candidates, exclude] of variants) {
      cells.push(median(Array.from({ length: 5 }, () => measure(balancer, stats, candidates, exclude))).toFixed(0));
    }
  }
  rows.push(`| ${p.label} | ${cells.join(' | ')} |`);
}
console.log(`Node ${process.version}, ${RUN_MS} ms per run, median of 5 (CPU ns/op); loop baseline (no-op pick) ${baselineNs.toFixed(1)} ns\n`);
console.log('| policy | 3 | 3 +retry | 3 degraded | 100 | 100 +retry | 100 degraded |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);

/** ns per candidate-list build for `n` backends (`down` of them ejected): by key, by handle loop, by handle + summary. */
function filterCosts(n: number, down: number): [number, number, number] {
  const monitor = new HealthMonitor({
    createProber: () => {
      throw new Error('passive only');
    },
  });
  const addresses = Array.from({ length: n }, (_, i) => `http://10.2.${i >> 8}.${i & 255}:8080`);
  const specs = new Map<string, HealthSpec>();
  for (const address of addresses) specs.set(healthKey('bench', address), { upstream: 'bench', backendId: address, address, check: null, transport: { connectTimeoutMs: 1000, verifyCertificates: true, ca: null } });
  void monitor.reconcile(specs);
  for (let i = 0; i < down; i++) for (let k = 0; k < 3; k++) monitor.reportTraffic('bench', addresses[i] as string, { kind: 'error', code: 'upstream_connect_failed' });
  const handles = addresses.map((a) => monitor.handle('bench', a));
  const loop = new CandidateFilter(handles);
  const summarised = new CandidateFilter(handles, monitor);
  const time = (build: () => readonly number[]): number => {
    let sink = 0;
    for (let i = 0; i < 20_000; i++) sink += build().length;
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const start = process.hrtime.bigint();
      const deadline = start + BigInt(RUN_MS) * 1_000_000n;
      let now = start;
      let ops = 0;
      const cpu = process.cpuUsage();
      while (now < deadline) {
        for (let i = 0; i < 4096; i++) sink += build().length;
        ops += 4096;
        now = process.hrtime.bigint();
      }
      const used = process.cpuUsage(cpu);
      runs.push(((used.user + used.system) * 1000) / ops);
    }
    if (sink === -1) console.log(sink);
    return median(runs);
  };
  const byKey = time(() => eligibleBackends(n, (i) => monitor.isAvailable('bench', addresses[i] as string)));
  const byHandle = time(() => loop.current());
  const bySummary = time(() => summarised.current());
  void monitor.close();
  return [byKey, byHandle, bySummary];
}

console.log('\n| candidates (CPU ns/op) | 3 | 3, one down | 100 | 100, one down |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const filterCells = [filterCosts(3, 0), filterCosts(3, 1), filterCosts(100, 0), filterCosts(100, 1)];
console.log(`| string key per backend (before) | ${filterCells.map((c) => c[0].toFixed(0)).join(' | ')} |`);
console.log(`| CandidateFilter, loop over handles | ${filterCells.map((c) => c[1].toFixed(0)).join(' | ')} |`);
console.log(`| CandidateFilter + HealthMonitor summary (as compiled) | ${filterCells.map((c) => c[2].toFixed(0)).join(' | ')} |`);
