/**
 * The p99 stall diagnosis (bench/README.md "Where the p99 goes at moderate load"): small GETs
 * in an open loop at a fixed offered rate (default 1000 req/s over 16 connections; latency from
 * the scheduled send time) against the direct HTTP/3 origin, Spooky → H1 / H2 and Caddy → H1,
 * pinned as in the side-by-side bench (SUT CPU 1, load and origins CPU 0), interleaved rounds.
 * Per cell, next to the latency: the SUT's event-loop delay (p99 / max, sampled every 10 ms)
 * and GC pauses inside the window — Spooky's from `/metrics` (spooky_event_loop_delay_seconds,
 * reset by the scrape before the cell; spooky_gc_pause_seconds_total and
 * spooky_nodejs_gc_duration_seconds_count deltas), the direct origin's from its SIGUSR2 stats
 * line — and the generator's own send lag. Reading: an outlier the SUT's loop delay matches
 * is an event-loop block (GC pauses are part of it); outliers on the direct origin as well
 * (same library, no proxy code) are the library's; neither → outside the JS thread.
 *
 *   node bench/src/stalls.bench.ts [--rate 1000] [--rounds 3] [--duration 5] [--targets direct,spooky-h1,spooky-h2,caddy-h1]
 *     [--b-node-options=--max-semi-space-size=16]   (adds spooky-h1-b: Spooky → H1 with that NODE_OPTIONS)
 *   target spooky-h1-qwait: Spooky → H1 with `route_queue.max_wait_ms: 50`
 */
import { truncateSync } from 'node:fs';
import { loadavg, } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSignedCert } from '../../test/src/harness/certs.ts';
import { parseBenchArgs } from './proxy/bench-args.ts';
import { rotate } from './proxy/bench-options.ts';
import { startBenchRun } from './proxy/bench-run.ts';
import type { CellResult } from './proxy/cell-result.ts';
import { measureCell } from './proxy/cell-runner.ts';
import { GeneratorPool } from './proxy/generator-pool.ts';
import { byLabel, type Sample, sampleValue, scrape } from './proxy/prom-text.ts';
import { caddyVersion } from './proxy/start-targets.ts';
import { startCaddy, startDirect, startNodeOrigins, startSpooky, type Target } from './proxy/targets.ts';
import { OPEN_LOOP_WORKLOAD } from './proxy/workloads.ts';

const USAGE = 'usage: node bench/src/stalls.bench.ts [--rate 1000] [--rounds 3] [--duration 5] [--targets direct,spooky-h1,spooky-h2,caddy-h1] [--b-node-options=…] [--max-minutes 6]';
const values = parseBenchArgs({
    rate: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    targets: { type: 'string', default: 'direct,spooky-h1,spooky-h2,caddy-h1' },
    'b-node-options': { type: 'string' },
    'max-minutes': { type: 'string', default: '6' },
  }, USAGE);
const rate = Number(values.rate);
const rounds = Number(values.rounds);
const durationMs = Number(values.duration) * 1000;
const wanted = [...values.targets.split(','), ...(values['b-node-options'] ? ['spooky-h1-b'] : [])];
if (!(rate > 0) || !(rounds >= 1) || !(durationMs > 0)) throw new Error('usage: stalls.bench.ts [--rate N] [--rounds N] [--duration S] [--targets …]');

const { reg, dir, main } = startBenchRun('stalls bench', 'spooky-stalls-bench-', Number(values['max-minutes']));

/** What the SUT's own runtime says about one window (null = the target reports nothing: Caddy). */
interface Runtime {
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly gcMs: number;
  /** Of gcMs: major (mark-compact) pauses. */
  readonly gcMajorMs: number;
  readonly gcCount: number;
  /** Requests the data plane shed in the window, by reason (spooky_overload_shed_by_reason_total); {} elsewhere. */
  readonly shed: Readonly<Record<string, number>>;
}

interface Probe {
  /** Called right before the cell: starts a fresh interval. */
  start(): Promise<void>;
  /** Called right after it: the interval's facts. */
  end(): Promise<Runtime | null>;
}

function shedDelta(before: readonly Sample[], after: readonly Sample[]): Record<string, number> {
  const was = byLabel(before, 'spooky_overload_shed_by_reason_total', 'reason');
  const out: Record<string, number> = {};
  for (const [reason, n] of byLabel(after, 'spooky_overload_shed_by_reason_total', 'reason')) if (n > (was.get(reason) ?? 0)) out[reason] = n - (was.get(reason) ?? 0);
  return out;
}

function spookyProbe(admin: string): Probe {
  let before: Sample[] = [];
  const gcSec = (s: readonly Sample[]): number => [...byLabel(s, 'spooky_gc_pause_seconds_total', 'kind').values()].reduce((a, b) => a + b, 0);
  const gcMajor = (s: readonly Sample[]): number => sampleValue(s, 'spooky_gc_pause_seconds_total', '{kind="major"}') ?? 0;
  const gcCount = (s: readonly Sample[]): number => [...byLabel(s, 'spooky_nodejs_gc_duration_seconds_count', 'kind').values()].reduce((a, b) => a + b, 0);
  return {
    async start() {
      before = await scrape(admin);
    },
    async end() {
      const after = await scrape(admin);
      return {
        loopP99Ms: (sampleValue(after, 'spooky_event_loop_delay_seconds', '{quantile="0.99"}') ?? Number.NaN) * 1000,
        loopMaxMs: (sampleValue(after, 'spooky_event_loop_delay_seconds', '{quantile="1"}') ?? Number.NaN) * 1000,
        gcMs: (gcSec(after) - gcSec(before)) * 1000,
        gcMajorMs: (gcMajor(after) - gcMajor(before)) * 1000,
        gcCount: gcCount(after) - gcCount(before),
        shed: shedDelta(before, after),
      };
    },
  };
}

function directProbe(pid: number): Probe {
  const proc = reg.processes.find((p) => p.pid === pid);
  if (!proc) throw new Error('direct origin not tracked');
  let seq = 0;
  const ask = async (): Promise<Runtime> => {
    const want = `{"stats":${++seq},`;
    process.kill(pid, 'SIGUSR2');
    const line = await proc.waitForLine((l) => l.startsWith(want), 5000);
    return { ...(JSON.parse(line) as Omit<Runtime, 'shed'>), shed: {} };
  };
  return {
    async start() {
      await ask();
    },
    end: ask,
  };
}

const NO_PROBE: Probe = { start: async () => {}, end: async () => null };

interface Row {
  readonly target: Target;
  readonly cell: CellResult;
  readonly runtime: Runtime | null;
}

async function run(): Promise<void> {
  const certs = ensureSelfSignedCert(join(dir, 'certs'));
  const origins = await startNodeOrigins(reg, certs, '0');
  const h1 = `http://127.0.0.1:${origins.h1}`;
  const h2 = `https://127.0.0.1:${origins.h2}`;
  const targets: { target: Target; probe: Probe; logFile: string | null }[] = [];
  for (const key of wanted) {
    if (key === 'direct') {
      const d = await startDirect(reg, certs, '1');
      targets.push({ target: { key, label: 'direct HTTP/3 origin', ...d }, probe: directProbe(d.rootPid), logFile: null });
    } else if (key === 'spooky-h1' || key === 'spooky-h2') {
      const s = await startSpooky(reg, dir, key, certs, key.endsWith('h1') ? h1 : h2, origins, '1', { args: ['--workers', '1'] });
      targets.push({ target: s, probe: spookyProbe(s.admin), logFile: s.logFile });
    } else if (key === 'spooky-h1-qwait') {
      const s = await startSpooky(reg, dir, key, certs, h1, origins, '1', { args: ['--workers', '1'], resilience: 'queue-wait', label: 'Spooky → H1, route_queue.max_wait_ms 50' });
      targets.push({ target: s, probe: spookyProbe(s.admin), logFile: s.logFile });
    } else if (key === 'spooky-h1-b') {
      const env = { NODE_OPTIONS: values['b-node-options'] ?? '' };
      const s = await startSpooky(reg, dir, key, certs, h1, origins, '1', { args: ['--workers', '1'], env, label: `Spooky → H1, NODE_OPTIONS=${env.NODE_OPTIONS}` });
      targets.push({ target: s, probe: spookyProbe(s.admin), logFile: s.logFile });
    } else if ((key === 'caddy-h1' || key === 'caddy-h2') && caddyVersion('caddy') !== null) {
      const c = await startCaddy(reg, 'caddy', dir, key, certs, key.endsWith('h1') ? h1 : h2, origins, '1');
      targets.push({ target: c, probe: NO_PROBE, logFile: null });
    }
  }
  const pool = GeneratorPool.start(reg, 1, '0');
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [position, t] of rotate(targets, round).entries()) {
      await t.probe.start();
      const cell = await measureCell(pool, { round, position, workload: OPEN_LOOP_WORKLOAD, target: t.target, ratePerSec: rate, warmupMs: 500, durationMs });
      const runtime = await t.probe.end();
      if (t.logFile) truncateSync(t.logFile, 0);
      rows.push({ target: t.target, cell, runtime });
      console.error(
        `round ${round + 1} ${t.target.key}: answered ${cell.servedPerSec.toFixed(0)}/s, p50 ${cell.p50Ms.toFixed(1)} p99 ${cell.p99Ms.toFixed(1)} max ${cell.maxMs.toFixed(0)} ms, SUT ${cell.sutCorePct.toFixed(0)} %, loop p99/max ${runtime ? `${runtime.loopP99Ms.toFixed(1)}/${runtime.loopMaxMs.toFixed(0)}` : '-'} ms, GC ${runtime ? `${runtime.gcMs.toFixed(0)} ms in ${runtime.gcCount} (major ${runtime.gcMajorMs.toFixed(0)} ms)` : '-'}, send lag p99/max ${cell.sendLagP99Ms.toFixed(1)}/${cell.sendLagMaxMs.toFixed(0)} ms`,
      );
    }
  }
  await pool.stop();
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const report = [
    `Spooky stall diagnosis, ${new Date().toISOString()}: small GETs, open loop at ${rate} req/s over ${OPEN_LOOP_WORKLOAD.connections} connections, ${rounds} rounds × ${durationMs / 1000} s (interleaved), SUT on CPU 1, load on CPU 0; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| target | round | answered req/s | p50 ms | p99 ms | max ms | SUT core | SUT loop delay p99 / max ms | SUT GC pauses ms (count), of which major | generator send lag p99 / max ms | errors | shed by reason |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...[...rows]
      .sort((a, b) => wanted.indexOf(a.target.key) - wanted.indexOf(b.target.key) || a.cell.round - b.cell.round)
      .map(
        ({ target, cell, runtime }) =>
          `| ${target.label} | ${cell.round + 1} | ${cell.servedPerSec.toFixed(0)} | ${f(cell.p50Ms, 2)} | ${f(cell.p99Ms)} | ${f(cell.maxMs, 0)} | ${cell.sutCorePct.toFixed(0)} % | ${runtime ? `${f(runtime.loopP99Ms)} / ${f(runtime.loopMaxMs, 0)}` : 'n/a'} | ${runtime ? `${f(runtime.gcMs, 0)} (${runtime.gcCount}), ${f(runtime.gcMajorMs, 0)}` : 'n/a'} | ${f(cell.sendLagP99Ms)} / ${f(cell.sendLagMaxMs, 0)} | ${JSON.stringify(cell.errors)} | ${runtime ? JSON.stringify(runtime.shed) : 'n/a'} |`,
      ),
    '',
  ].join('\n');
  console.log(report);
}

await main(run);
