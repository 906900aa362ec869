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
 * Prints ns/op (median of 5 runs) as a Markdown table.
 */
import type { LbType } from '@spooky/config';
import type { Balancer, PickContext, PickRequest, WeightedBackend } from '../../dataplane/src/balancing/balancer.ts';
import { allBackends, eligibleBackends } from '../../dataplane/src/balancing/candidates.ts';
import { createBalancer } from '../../dataplane/src/balancing/create-balancer.ts';
import { createRoundRobinState } from '../../dataplane/src/balancing/round-robin.ts';
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

/** ns per pick over RUN_MS; picks are consumed into a checksum so nothing is optimised away. */
function measure(balancer: Balancer, stats: BackendStats[], candidates: readonly number[], exclude: ReadonlySet<number> | null): number {
  const contexts: PickContext[] = REQUESTS.map((request) => ({ exclude, request }));
  for (let i = 0; i < 20_000; i++) balancer.pick(candidates, contexts[i & 1023] as PickContext); // warm up (+ builds rings)
  let ops = 0;
  let sink = 0;
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
  for (const s of stats) s.active = 0;
  if (sink === -1) console.log(sink);
  return Number(now - start) / ops;
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
console.log(`Node ${process.version}, ${RUN_MS} ms per run, median of 5 (ns/op); loop baseline (no-op pick) ${baselineNs.toFixed(1)} ns\n`);
console.log('| policy | 3 | 3 +retry | 3 degraded | 100 | 100 +retry | 100 degraded |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
