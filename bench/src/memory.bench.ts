/**
 * Heap and RSS of the data plane before load, at the end of load and after it (bench/README.md
 * "Memory after load"). Spooky → the HTTP/1.1 (or, with --h2, the HTTP/2) Node origin, as the
 * side-by-side bench runs it (`--workers 1`, SUT pinned to CPU 1, load and origins to CPU 0).
 * Load: an open loop at --rate req/s (default 800; every variant gets the same requests), or
 * with --rate 0 the closed-loop --workload; then idle --after seconds. Sampled: RSS of every
 * process of the tree (/proc/<pid>/status VmRSS: primary and worker apart), the aggregated
 * /metrics V8 heap (spooky_nodejs_heap_size_used_bytes / _total_bytes and the per-space
 * committed sizes: primary + worker), the worker's event-loop delay and GC pause totals.
 * Goal: 10 s after load, heap and RSS within 20 % of their pre-load values.
 *
 * A/B: `--b-node-options=…` / `--b-env K=V` start a second data plane (variant B) with those
 * added; both get the same load, interleaved in --rounds cells, so CPU µs/req compares too.
 *
 *   node bench/src/memory.bench.ts [--load 20] [--after 10] [--rounds 4] [--rate 800|0]
 *     [--workload small-get|get-64k|get-1m|post-1k|mix] [--sequential] [--h2] [--env K=V] [--node-options=…]
 *     [--b-env K=V] [--b-node-options=--max-semi-space-size=16]
 */
import { readFileSync, truncateSync } from 'node:fs';
import { loadavg, } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSignedCert } from '../../test/src/harness/certs.ts';
import { rssBytes } from '../../test/src/harness/process-rss.ts';
import { parseBenchArgs } from './proxy/bench-args.ts';
import { rotate } from './proxy/bench-options.ts';
import { startBenchRun } from './proxy/bench-run.ts';
import type { CellResult } from './proxy/cell-result.ts';
import { measureCell } from './proxy/cell-runner.ts';
import { GeneratorPool } from './proxy/generator-pool.ts';
import { processTree } from './proxy/proc-cpu.ts';
import { byLabel, type Sample, sampleValue, scrape } from './proxy/prom-text.ts';
import { median } from './proxy/summary.ts';
import { startNodeOrigins, startSpooky } from './proxy/targets.ts';
import { OPEN_LOOP_WORKLOAD, WORKLOADS } from './proxy/workloads.ts';

const USAGE = 'usage: node bench/src/memory.bench.ts [--load S] [--after S] [--rounds N] [--rate N|0] [--workload small-get|get-64k|get-1m|post-1k|mix] [--sequential] [--h2] [--env K=V] [--node-options=…] [--b-env K=V] [--b-node-options=…] [--max-minutes N]';
const values = parseBenchArgs({
    load: { type: 'string', default: '20' },
    after: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    rate: { type: 'string', default: '800' },
    workload: { type: 'string', default: 'small-get' },
    sequential: { type: 'boolean', default: false },
    h2: { type: 'boolean', default: false },
    'node-options': { type: 'string' },
    env: { type: 'string', multiple: true },
    'b-node-options': { type: 'string' },
    'b-env': { type: 'string', multiple: true },
    'max-minutes': { type: 'string', default: '5' },
  }, USAGE);
const loadMs = Number(values.load) * 1000;
const afterMs = Number(values.after) * 1000;
const rounds = Number(values.rounds);
const rate = Number(values.rate);
// `--workload mix`: each cell runs small GETs, 1 MiB GETs and 1 KiB POSTs, a third of it each.
const MIX = ['small-get', 'get-1m', 'post-1k'].map((n) => WORKLOADS.find((w) => w.name === n)!);
const found = rate > 0 ? OPEN_LOOP_WORKLOAD : values.workload === 'mix' ? MIX[0] : WORKLOADS.find((w) => w.name === values.workload);
if (!found || !(loadMs > 0) || !(afterMs >= 0) || !(rounds >= 1) || !(rate >= 0)) {
  throw new Error(USAGE);
}
const workloads = rate === 0 && values.workload === 'mix' ? MIX : [found];
const workloadLabel = workloads.length > 1 ? `mix: ${workloads.map((w) => w.label).join(' + ')}` : rate > 0 ? `open loop at ${rate} req/s over ${found.connections} connections` : found.label;

/** Environment added to a data plane's: --env K=V (repeatable), --node-options → NODE_OPTIONS. */
function envOf(pairs: readonly string[] | undefined, nodeOptions: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of pairs ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--env: expected K=V, got ${JSON.stringify(kv)}`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (nodeOptions) env['NODE_OPTIONS'] = nodeOptions;
  return env;
}
const variants = [{ name: 'A', env: envOf(values.env, values['node-options']) }];
if (values['b-env'] || values['b-node-options']) variants.push({ name: 'B', env: envOf([...(values.env ?? []), ...(values['b-env'] ?? [])], values['b-node-options'] ?? values['node-options']) });
const envNote = (env: Record<string, string>): string => Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults';

const { reg, dir, main } = startBenchRun('memory bench', 'spooky-memory-bench-', Number(values['max-minutes']));


/** Private anonymous memory of one process in bytes (/proc/<pid>/smaps_rollup `Anonymous`; 0 when gone). */
function anonBytes(pid: number): number {
  try {
    const m = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface Point {
  readonly label: string;
  readonly atSec: number;
  /** RSS per tree member, root (primary) first. */
  readonly rss: readonly number[];
  /**
   * Anonymous memory per tree member (the RSS minus file-backed pages: the node binary's text,
   * ~54 MB, is in each process's RSS and shared between them).
   */
  readonly anon: readonly number[];
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly loopP99: number;
  readonly loopMax: number;
  readonly gcSec: number;
  /** V8 heap space → committed bytes (`spooky_nodejs_heap_space_size_total_bytes{space}`). */
  readonly spaces: ReadonlyMap<string, number>;
}

const MB = 1024 * 1024;
let t0 = 0;

async function point(label: string, admin: string, rootPid: number): Promise<Point> {
  const tree = processTree(rootPid);
  const rss = tree.map((p) => (rssBytes(p.pid) ?? 0));
  const anon = tree.map((p) => anonBytes(p.pid));
  const s: Sample[] = await scrape(admin);
  const v = (name: string, labels = ''): number => sampleValue(s, name, labels) ?? Number.NaN;
  const gc = ['minor', 'major', 'incremental', 'weakcb'].reduce((sum, kind) => sum + v('spooky_gc_pause_seconds_total', `{kind="${kind}"}`), 0);
  const p: Point = {
    label,
    atSec: (performance.now() - t0) / 1000,
    rss,
    anon,
    heapUsed: v('spooky_nodejs_heap_size_used_bytes'),
    heapTotal: v('spooky_nodejs_heap_size_total_bytes'),
    external: v('spooky_nodejs_external_memory_bytes'),
    loopP99: v('spooky_event_loop_delay_seconds', '{quantile="0.99"}'),
    loopMax: v('spooky_event_loop_delay_seconds', '{quantile="1"}'),
    gcSec: gc,
    spaces: byLabel(s, 'spooky_nodejs_heap_space_size_total_bytes', 'space'),
  };
  console.error(`${rootPid} ${label}: RSS ${rss.map((r) => (r / MB).toFixed(0)).join(' + ')} MB, heap used ${(p.heapUsed / MB).toFixed(1)} MB of ${(p.heapTotal / MB).toFixed(1)}, external ${(p.external / MB).toFixed(1)} MB`);
  return p;
}

interface Run {
  readonly name: string;
  readonly note: string;
  readonly spooky: Awaited<ReturnType<typeof startSpooky>>;
  readonly points: Point[];
  readonly cells: CellResult[];
}

function table(r: Run): string {
  const base = r.points[0]!;
  const pct = (a: number, b: number): string => `${(((a - b) / b) * 100).toFixed(0)} %`;
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  const spaces = [...base.spaces.keys()].filter((k) => r.points.some((p) => (p.spaces.get(k) ?? 0) > 0));
  const cpu = r.cells.reduce((a, c) => a + c.cpuUsPerReq * c.completed, 0) / Math.max(1, r.cells.reduce((a, c) => a + c.completed, 0));
  const errors = r.cells.reduce((n, c) => n + Object.values(c.errors).reduce((a, b) => a + b, 0), 0);
  return [
    `**${r.name}** (${r.note}): ${r.cells.reduce((a, c) => a + c.completed, 0)} requests measured, ${cpu.toFixed(0)} CPU µs/req (all cells), p99 per cell ${r.cells.map((c) => c.p99Ms.toFixed(0)).join(' / ')} ms, errors ${errors}`,
    '',
    '| when | RSS primary + worker MB | RSS total vs before | anonymous primary + worker MB | anonymous vs before | V8 heap used MB | heap used vs before | heap total MB | external MB | worker loop p99 / max ms (interval) | GC pause s (cumulative) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.points.map(
      (p) =>
        `| ${p.label} | ${p.rss.map((x) => (x / MB).toFixed(0)).join(' + ')} | ${p === base ? '' : pct(sum(p.rss), sum(base.rss))} | ${p.anon.map((x) => (x / MB).toFixed(0)).join(' + ')} | ${p === base ? '' : pct(sum(p.anon), sum(base.anon))} | ${(p.heapUsed / MB).toFixed(1)} | ${p === base ? '' : pct(p.heapUsed, base.heapUsed)} | ${(p.heapTotal / MB).toFixed(1)} | ${(p.external / MB).toFixed(1)} | ${(p.loopP99 * 1000).toFixed(1)} / ${(p.loopMax * 1000).toFixed(1)} | ${p.gcSec.toFixed(2)} |`,
    ),
    '',
    `V8 heap spaces, committed MB (primary + worker): ${r.points.map((p) => `${p.label}: ${spaces.map((k) => `${k} ${((p.spaces.get(k) ?? 0) / MB).toFixed(0)}`).join(', ')}`).join('; ')}`,
    '',
  ].join('\n');
}

/** B ÷ A CPU µs/req per round (the pair measured in the same minutes), median and range. */
function cpuRatioLine(a: Run, b: Run): string {
  const ratios = b.cells.map((c, i) => c.cpuUsPerReq / a.cells[i]!.cpuUsPerReq).sort((x, y) => x - y);
  return `CPU µs/req B ÷ A per round: median ${median(ratios).toFixed(2)} (${ratios[0]!.toFixed(2)}–${ratios[ratios.length - 1]!.toFixed(2)}) over ${ratios.length} rounds`;
}

async function run(): Promise<void> {
  const certs = ensureSelfSignedCert(join(dir, 'certs'));
  const origins = await startNodeOrigins(reg, certs, '0');
  const upstream = values.h2 ? `https://127.0.0.1:${origins.h2}` : `http://127.0.0.1:${origins.h1}`;
  const runs: Run[] = [];
  for (const v of variants) {
    const spooky = await startSpooky(reg, dir, `spooky-${v.name}`, certs, upstream, origins, '1', { args: ['--workers', '1'], env: v.env, idleRelease: true, label: `Spooky → ${values.h2 ? 'H2' : 'H1'}` });
    runs.push({ name: v.name, note: envNote(v.env), spooky, points: [], cells: [] });
  }
  const pool = GeneratorPool.start(reg, 1, '0');
  t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  for (const r of runs) r.points.push(await point(`${r.name} before load (idle)`, r.spooky.admin, r.spooky.rootPid));
  // Interleaved (default): every variant gets the same load in the same minutes (rotating
  // order), then all idle together. --sequential: one variant's load and idle after the
  // other's, so a variant that acts when idle is not idle during the other's cells.
  const loadAndIdle = async (group: readonly Run[]): Promise<void> => {
    for (let round = 0; round < rounds; round++) {
      for (const [position, r] of rotate(group, round).entries()) {
        for (const workload of workloads) {
          const cell = await measureCell(pool, { round, position, workload, target: r.spooky, ratePerSec: rate, warmupMs: 300, durationMs: loadMs / rounds / workloads.length });
          r.cells.push(cell);
          truncateSync(r.spooky.logFile, 0);
          console.error(`round ${round + 1} ${r.name} ${workload.name}: ${cell.reqPerSec.toFixed(0)} req/s, ${cell.cpuUsPerReq.toFixed(0)} µs/req, p99 ${cell.p99Ms.toFixed(1)} ms`);
        }
      }
    }
    for (const r of group) r.points.push(await point(`${r.name} end of load`, r.spooky.admin, r.spooky.rootPid));
    for (let s = 1; s <= afterMs / 1000; s++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const r of group) {
        const p = await point(`${s} s after load`, r.spooky.admin, r.spooky.rootPid);
        if (s === afterMs / 1000 || s % 5 === 0) r.points.push(p);
      }
    }
  };
  if (values.sequential) for (const r of runs) await loadAndIdle([r]);
  else await loadAndIdle(runs);
  await pool.stop();
  const report = [
    `Spooky memory after load, ${new Date().toISOString()}: Spooky → ${values.h2 ? 'H2' : 'H1'} (--workers 1, CPU 1), ${workloadLabel}, ${loadMs / 1000} s of load in ${rounds} rounds per variant (${values.sequential ? 'one variant after the other' : 'interleaved'}), then idle ${afterMs / 1000} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    ...runs.map(table),
    ...(runs.length === 2 ? [cpuRatioLine(runs[0]!, runs[1]!), ''] : []),
  ].join('\n');
  console.log(report);
}

await main(run);
