/**
 * The all-cores row (bench/README.md "All cores"): Spooky → the HTTP/1.1 Node origin with
 * `--workers 2` against `--workers 1`, nothing pinned (the kernel schedules the workers, the
 * origin and the load generator over every core), small GETs over many QUIC connections so the
 * kernel's UDP 4-tuple hash spreads them over the workers. Interleaved rounds, alternating
 * order; per round the 2-worker ÷ 1-worker req/s ratio; the median of those ratios. Per cell it
 * also reports how many connections (and requests) each worker served, from the access log
 * (`?c=<tag>` per connection, the line's `pid`).
 *
 *   node bench/src/workers.bench.ts [--quick] [--rounds 3] [--duration 3] [--connections 32]
 *     [--streams 8] [--generators 1] [--max-minutes 6]
 *
 * Every process it starts is stopped by PID at the end, on errors, on Ctrl-C and when the
 * --max-minutes bound expires.
 */
import { readFileSync, truncateSync } from 'node:fs';
import { availableParallelism, loadavg, } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSignedCert } from '../../test/src/harness/certs.ts';
import { parseBenchArgs } from './proxy/bench-args.ts';
import { startBenchRun } from './proxy/bench-run.ts';
import type { CellResult } from './proxy/cell-result.ts';
import { measureCell } from './proxy/cell-runner.ts';
import { connectionSpread } from './proxy/connection-spread.ts';
import { GeneratorPool } from './proxy/generator-pool.ts';
import { median } from './proxy/summary.ts';
import { startNodeOrigins, startSpooky } from './proxy/targets.ts';
import { SMALL_BYTES, type Workload } from './proxy/workloads.ts';

const USAGE = 'usage: node bench/src/workers.bench.ts [--quick] [--rounds 3] [--duration 3] [--connections 32] [--streams 8] [--generators 1] [--max-minutes 6]';
const values = parseBenchArgs({
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '32' },
    streams: { type: 'string', default: '8' },
    generators: { type: 'string', default: '1' },
    'max-minutes': { type: 'string', default: '6' },
  }, USAGE);
const quick = values.quick === true;
const rounds = Number(values.rounds ?? (quick ? 2 : 3));
const durationMs = Number(values.duration ?? (quick ? 1.5 : 3)) * 1000;
const warmupMs = quick ? 500 : 1000;
const connections = Number(values.connections);
const streams = Number(values.streams);
const generators = Number(values.generators);
for (const [k, v] of Object.entries({ rounds, durationMs, connections, streams, generators })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bad --${k}`);
}

const workload: Workload = {
  name: 'small-get-spread',
  label: `small GET (${SMALL_BYTES} B), ${connections} conn × ${streams} streams, one tag per connection`,
  method: 'GET',
  path: `/bytes/${SMALL_BYTES}`,
  requestBytes: 0,
  responseBytes: SMALL_BYTES,
  connections,
  streams,
  tagConnections: true,
};

const { reg, dir, main } = startBenchRun('workers bench', 'spooky-workers-bench-', Number(values['max-minutes']));

interface SpreadCell {
  readonly cell: CellResult;
  /** Per worker pid: connections / requests, sorted by pid. */
  readonly perWorker: readonly { readonly pid: number; readonly connections: number; readonly requests: number }[];
  readonly split: number;
}

async function run(): Promise<void> {
  const certs = ensureSelfSignedCert(join(dir, 'certs'));
  const before = loadavg();
  const origins = await startNodeOrigins(reg, certs, null);
  const h1 = `http://127.0.0.1:${origins.h1}`;
  const one = await startSpooky(reg, dir, 'spooky-w1', certs, h1, origins, null, { args: ['--workers', '1'], label: 'Spooky → H1, --workers 1' });
  const two = await startSpooky(reg, dir, 'spooky-w2', certs, h1, origins, null, { args: ['--workers', '2'], label: 'Spooky → H1, --workers 2' });
  const pool = GeneratorPool.start(reg, generators, null);
  const targets = [one, two];
  const results = new Map<string, SpreadCell[]>(targets.map((t) => [t.key, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const [position, target] of order.entries()) {
      truncateSync(target.logFile, 0);
      const cell = await measureCell(pool, { round, position, workload, target, ratePerSec: 0, warmupMs, durationMs });
      const spread = connectionSpread(readFileSync(target.logFile, 'utf8'));
      truncateSync(target.logFile, 0);
      const perWorker = [...spread.connectionsByPid.keys()].sort((a, b) => a - b).map((pid) => ({ pid, connections: spread.connectionsByPid.get(pid) ?? 0, requests: spread.requestsByPid.get(pid) ?? 0 }));
      results.get(target.key)!.push({ cell, perWorker, split: spread.split });
      const errs = Object.values(cell.errors).reduce((a, b) => a + b, 0);
      console.error(
        `round ${round + 1} ${target.key}: ${cell.reqPerSec.toFixed(0)} req/s, ${cell.cpuUsPerReq.toFixed(0)} µs/req, SUT ${cell.sutCorePct.toFixed(0)} %, load ${cell.loadCorePct.toFixed(0)} %, origin ${cell.originCorePct?.toFixed(0)} %, p99 ${cell.p99Ms.toFixed(1)} ms, connections per worker ${perWorker.map((w) => w.connections).join('/')}${errs ? `, errors ${JSON.stringify(cell.errors)}` : ''}`,
      );
    }
  }
  await pool.stop();
  const r1 = results.get(one.key)!;
  const r2 = results.get(two.key)!;
  const ratios = r2.map((c, i) => c.cell.reqPerSec / r1[i]!.cell.reqPerSec);
  const row = (label: string, cells: readonly SpreadCell[], ratio: string): string => {
    const last = cells[cells.length - 1]!;
    const conns = last.perWorker.map((w) => w.connections).join(' / ');
    const reqs = cells.map((c) => c.perWorker.map((w) => `${((100 * w.requests) / Math.max(1, c.perWorker.reduce((a, x) => a + x.requests, 0))).toFixed(0)} %`).join(' / ')).join('; ');
    const errors = cells.reduce((n, c) => n + Object.values(c.cell.errors).reduce((a, b) => a + b, 0), 0);
    return `| ${label} | ${median(cells.map((c) => c.cell.reqPerSec)).toFixed(0)} | ${ratio} | ${median(cells.map((c) => c.cell.cpuUsPerReq)).toFixed(0)} | ${median(cells.map((c) => c.cell.sutCorePct)).toFixed(0)} % | ${median(cells.map((c) => c.cell.loadCorePct)).toFixed(0)} % | ${median(cells.map((c) => c.cell.originCorePct ?? 0)).toFixed(0)} % | ${median(cells.map((c) => c.cell.p99Ms)).toFixed(1)} | ${conns} | ${reqs} | ${cells.reduce((n, c) => n + c.split, 0)} | ${errors} |`;
  };
  const report = [
    `Spooky all-cores bench, ${new Date().toISOString()} (${quick ? 'quick' : 'full'}; ${rounds} rounds × ${durationMs / 1000} s after ${warmupMs / 1000} s warm-up; ${generators} load generator(s); nothing pinned)`,
    `Machine: ${availableParallelism()} CPUs, Node ${process.version}, load average ${before.map((l) => l.toFixed(1)).join(' ')} before / ${loadavg().map((l) => l.toFixed(1)).join(' ')} after`,
    '',
    `${workload.label}:`,
    '',
    '| target | req/s | ÷ 1 worker (min–max) | CPU µs/req | SUT CPU | load CPU | origin CPU | p99 ms | connections per worker (last round) | requests per worker (each round) | connections on 2 workers | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |',
    row(one.label, r1, '1'),
    row(two.label, r2, `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`),
    '',
    'CPU columns are % of one core (the machine has ' + availableParallelism() + '): SUT = the data plane\'s whole process tree, load = the generators, origin = the Node origins.',
    '',
  ].join('\n');
  console.log(report);
}

await main(run);
