/**
 * From raw cells to the report: per (workload, target) the median over rounds of req/s, CPU
 * µs/req, p99 and of the per-round ratio to the direct origin measured in the same round
 * (with its min–max spread), and the Markdown tables. Pure functions.
 */
import type { CellResult } from './cell-result.ts';
import { THREAD_CLASSES } from './proc-cpu.ts';

export const BASELINE = 'direct';

export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function maxOf(values: readonly number[]): number {
  const v = values.filter(Number.isFinite);
  return v.length === 0 ? Number.NaN : Math.max(...v);
}

export interface Row {
  readonly workload: string;
  readonly target: string;
  readonly rounds: number;
  readonly reqPerSec: number;
  readonly mbitPerSec: number;
  /** Median of per-round (target req/s ÷ direct req/s); NaN without a baseline. */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  readonly cpuUsPerReq: number;
  /** Median over rounds of each thread class's CPU µs/req (cell-result.ts threadUsPerReq). */
  readonly threadUsPerReq: Readonly<Record<string, number>>;
  readonly sutCorePct: number;
  readonly loadCorePct: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly offeredRate: number;
  readonly servedPerSec: number;
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
}

/** Rows in first-seen order of workloads, then targets. */
export function summarise(cells: readonly CellResult[]): Row[] {
  const workloads = [...new Set(cells.map((c) => c.workload))];
  const targets = [...new Set(cells.map((c) => c.target))];
  const rows: Row[] = [];
  for (const workload of workloads) {
    const base = new Map(cells.filter((c) => c.workload === workload && c.target === BASELINE).map((c) => [c.round, c.reqPerSec]));
    for (const target of targets) {
      const mine = cells.filter((c) => c.workload === workload && c.target === target);
      if (mine.length === 0) continue;
      const ratios = mine.flatMap((c) => {
        const b = base.get(c.round);
        return b !== undefined && b > 0 ? [c.reqPerSec / b] : [];
      });
      const errorKinds: Record<string, number> = {};
      for (const c of mine) for (const [k, n] of Object.entries(c.errors)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
      rows.push({
        workload,
        target,
        rounds: mine.length,
        reqPerSec: median(mine.map((c) => c.reqPerSec)),
        mbitPerSec: median(mine.map((c) => c.mbitPerSec)),
        ratio: median(ratios),
        ratioMin: ratios.length ? Math.min(...ratios) : Number.NaN,
        ratioMax: ratios.length ? Math.max(...ratios) : Number.NaN,
        cpuUsPerReq: median(mine.map((c) => c.cpuUsPerReq)),
        threadUsPerReq: Object.fromEntries(THREAD_CLASSES.map((k) => [k, median(mine.map((c) => c.threadUsPerReq?.[k] ?? Number.NaN))])),
        sutCorePct: median(mine.map((c) => c.sutCorePct)),
        loadCorePct: median(mine.map((c) => c.loadCorePct)),
        p50Ms: median(mine.map((c) => c.p50Ms)),
        p99Ms: median(mine.map((c) => c.p99Ms)),
        maxMs: maxOf(mine.map((c) => c.maxMs)),
        offeredRate: median(mine.map((c) => c.offeredRate)),
        servedPerSec: median(mine.map((c) => c.servedPerSec)),
        errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
        errorKinds,
      });
    }
  }
  return rows;
}

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n < 10 ? fmt(n, 2) : n < 100 ? fmt(n, 1) : fmt(n, 0);
}

function ratioCell(r: Row): string {
  if (r.target === BASELINE) return '1';
  if (!Number.isFinite(r.ratio)) return '–';
  return r.rounds > 1 ? `${fmt(r.ratio, 2)} (${fmt(r.ratioMin, 2)}–${fmt(r.ratioMax, 2)})` : fmt(r.ratio, 2);
}

function errorCell(r: Row): string {
  if (r.errors === 0) return '0';
  const kinds = Object.entries(r.errorKinds).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k} ${n}`);
  return kinds.join(', ');
}

/** The closed-loop table: workload × target. */
export function closedLoopTable(rows: readonly Row[], labels: ReadonlyMap<string, string>, workloadLabels: ReadonlyMap<string, string>): string {
  const out = [
    '| workload | target | req/s | ÷ direct (min–max) | CPU µs/req | SUT core | load core | p50 ms | p99 ms | Mbit/s | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  let last = '';
  for (const r of rows) {
    const w = r.workload === last ? '' : (workloadLabels.get(r.workload) ?? r.workload);
    last = r.workload;
    out.push(
      `| ${w} | ${labels.get(r.target) ?? r.target} | ${fmt(r.reqPerSec)} | ${ratioCell(r)} | ${fmt(r.cpuUsPerReq)} | ${fmt(r.sutCorePct)} % | ${fmt(r.loadCorePct)} % | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${fmt(r.mbitPerSec)} | ${errorCell(r)} |`,
    );
  }
  return out.join('\n');
}

/**
 * CPU µs/req of the system under test split by thread class (proc-cpu.ts): where a target's
 * CPU goes — JavaScript, V8's GC / compiler helpers, the QUIC library's native worker.
 */
export function threadTable(rows: readonly Row[], labels: ReadonlyMap<string, string>, workloadLabels: ReadonlyMap<string, string>): string {
  const out = [
    '| workload | target | CPU µs/req | JS threads | V8 helpers (GC, compiler) | native threads (QUIC library worker) | libuv pool |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  let last = '';
  for (const r of rows) {
    const w = r.workload === last ? '' : (workloadLabels.get(r.workload) ?? r.workload);
    last = r.workload;
    const t = r.threadUsPerReq;
    out.push(`| ${w} | ${labels.get(r.target) ?? r.target} | ${fmt(r.cpuUsPerReq)} | ${fmt(t['js'] ?? Number.NaN)} | ${fmt(t['v8'] ?? Number.NaN)} | ${fmt(t['native'] ?? Number.NaN)} | ${fmt(t['libuv'] ?? Number.NaN)} |`);
  }
  return out.join('\n');
}

/** The open-loop table: one row per target at the same offered rate. */
export function openLoopTable(rows: readonly Row[], labels: ReadonlyMap<string, string>): string {
  const out = [
    '| target | offered req/s | answered req/s | p50 ms | p99 ms | max ms | CPU µs/req | SUT core | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    out.push(
      `| ${labels.get(r.target) ?? r.target} | ${fmt(r.offeredRate)} | ${fmt(r.servedPerSec)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.maxMs)} | ${fmt(r.cpuUsPerReq)} | ${fmt(r.sutCorePct)} % | ${errorCell(r)} |`,
    );
  }
  return out.join('\n');
}

/**
 * The A/A noise floor per workload: the second direct measurement ÷ the first, median and
 * min–max over rounds. A ratio difference smaller than this spread is noise.
 */
export function noiseFloorLines(rows: readonly Row[], aaTarget: string, workloadLabels: ReadonlyMap<string, string>): string[] {
  return rows
    .filter((r) => r.target === aaTarget && Number.isFinite(r.ratio))
    .map((r) => `- ${workloadLabels.get(r.workload) ?? r.workload}: A/A ${fmt(r.ratio, 2)} (${fmt(r.ratioMin, 2)}–${fmt(r.ratioMax, 2)})`);
}

/**
 * A side-by-side A/B of two targets measured in the same rounds (e.g. `spooky-h1` against
 * `spooky-h1-baseline`): per workload, the median and min–max over rounds of the per-round
 * ratios a ÷ b of CPU µs/req and of req/s. Below 1 on CPU = a is cheaper. Empty when either
 * target is missing.
 */
export function pairLines(cells: readonly CellResult[], a: string, b: string, workloadLabels: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const workload of [...new Set(cells.map((c) => c.workload))]) {
    const theirs = new Map(cells.filter((c) => c.workload === workload && c.target === b).map((c) => [c.round, c]));
    const cpu: number[] = [];
    const rps: number[] = [];
    for (const mine of cells.filter((c) => c.workload === workload && c.target === a)) {
      const other = theirs.get(mine.round);
      if (other === undefined) continue;
      if (other.cpuUsPerReq > 0) cpu.push(mine.cpuUsPerReq / other.cpuUsPerReq);
      if (other.reqPerSec > 0) rps.push(mine.reqPerSec / other.reqPerSec);
    }
    if (cpu.length === 0) continue;
    const range = (v: readonly number[]): string => `${fmt(median(v), 3)} (${fmt(Math.min(...v), 3)}–${fmt(Math.max(...v), 3)})`;
    out.push(`- ${workloadLabels.get(workload) ?? workload}: CPU µs/req ${range(cpu)}, req/s ${range(rps)} over ${cpu.length} rounds`);
  }
  return out;
}
