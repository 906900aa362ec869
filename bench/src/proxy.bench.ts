/**
 * The side-by-side proxy benchmark (bench/README.md): the direct HTTP/3 origin, Spooky → H1 /
 * H2 and Caddy → H1 / H2 under the same HTTP/3 load, interleaved rounds in rotating order,
 * medians of per-round ratios to the direct origin, a direct A/A pair as the noise floor, the
 * system under test pinned to one core and the load generators to the other.
 *
 *   npm run bench -- [--quick] [--out report.md] [--json rounds.json] …   (--help for all flags)
 *
 * Every process it starts is stopped by PID at the end, on errors, on Ctrl-C and when the
 * `--max-minutes` bound expires.
 */
import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSignedCert } from '../../test/src/harness/certs.ts';
import { type BenchOptions, parseBenchOptions, rotate } from './proxy/bench-options.ts';
import { startBenchRun } from './proxy/bench-run.ts';
import type { CellResult } from './proxy/cell-result.ts';
import { CellNotStarted, measureCell } from './proxy/cell-runner.ts';
import { GeneratorPool } from './proxy/generator-pool.ts';
import { startTargets } from './proxy/start-targets.ts';
import { closedLoopTable, noiseFloorLines, openLoopTable, pairLines, summarise, threadTable } from './proxy/summary.ts';
import type { Target } from './proxy/targets.ts';
import { OPEN_LOOP_WORKLOAD, WORKLOADS, type Workload } from './proxy/workloads.ts';

const startedAt = new Date();
const t0 = performance.now();
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

if (options.sutCpu !== null && cpus().length < 2) {
  console.error('the bench pins the system under test and the load to different cores: this machine has one (use --no-pin)');
  process.exit(2);
}

const { reg, dir, main } = startBenchRun('bench', 'spooky-bench-', options.maxMinutes);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function run(): Promise<void> {
  // The orchestrator itself (timers, /proc scans) stays off the SUT core.
  if (options.loadCpu !== null) execFileSync('taskset', ['-a', '-p', '-c', options.loadCpu, String(process.pid)], { stdio: 'ignore' });
  const certs = ensureSelfSignedCert(join(dir, 'certs'));
  const loadAvgBefore = loadavg();
  const started = await startTargets(reg, dir, certs, options.targets, { sut: options.sutCpu, load: options.loadCpu }, options.caddy, options.baseline, options.bNodeOptions);
  for (const s of started.skipped) console.error(`bench: skipped ${s}`);
  const pool = GeneratorPool.start(reg, options.generators, options.loadCpu);
  const targets = started.targets;
  const workloads = WORKLOADS.filter((w) => options.workloads.includes(w.name));
  const afterCell = (): void => {
    for (const f of started.logFiles) truncateSync(f, 0);
  };
  const cellOnce = async (round: number, position: number, workload: Workload, target: Target, rate: number, durationMs: number): Promise<CellResult> => {
    const cell = await measureCell(pool, { round, position, workload, target, ratePerSec: rate, warmupMs: options.warmupMs, durationMs });
    afterCell();
    const errs = Object.values(cell.errors).reduce((a, b) => a + b, 0);
    console.error(
      `[${elapsed()}] round ${round + 1} ${workload.name} ${target.key}: ${cell.reqPerSec.toFixed(0)} req/s, ${cell.cpuUsPerReq.toFixed(0)} µs/req, SUT ${cell.sutCorePct.toFixed(0)} %, load ${cell.loadCorePct.toFixed(0)} %, p99 ${cell.p99Ms.toFixed(2)} ms${errs ? `, ${errs} errors ${JSON.stringify(cell.errors)}` : ''}`,
    );
    return cell;
  };

  // Sanity: every target answers the small GET before anything is measured.
  // A cold target on a busy machine may finish nothing within the first window without any
  // error: up to three windows, each twice as long, before calling it broken.
  // A probe window the generator never opened (its one connection not yet up) counts as a
  // cold window too, not as a broken target.
  const probeOnce = async (target: Target, durationMs: number): Promise<{ completed: number; errors: Record<string, number> }> => {
    try {
      return await measureCell(pool, { round: -1, position: 0, workload: { ...OPEN_LOOP_WORKLOAD, connections: 1, streams: 1 }, target, ratePerSec: 0, warmupMs: 100, durationMs });
    } catch (err) {
      if (!(err instanceof CellNotStarted)) throw err;
      return { completed: 0, errors: {} };
    } finally {
      afterCell();
    }
  };
  for (const target of targets) {
    let probe = await probeOnce(target, 300);
    for (let again = 1; again < 3 && probe.completed === 0 && Object.keys(probe.errors).length === 0; again++) probe = await probeOnce(target, 300 * 2 ** again);
    if (probe.completed === 0 || Object.keys(probe.errors).length > 0) throw new Error(`${target.key} does not answer the bench's requests: ${JSON.stringify(probe.errors)}`);
  }

  const cells: CellResult[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const [w, workload] of workloads.entries()) {
      for (const [position, target] of rotate(targets, round + w).entries()) cells.push(await cellOnce(round, position, workload, target, 0, options.durationMs));
    }
  }

  const rows = summarise(cells);
  let rate = 0;
  if (options.openRounds > 0) {
    if (options.rate === 'auto') {
      const small = rows.filter((r) => r.workload === 'small-get');
      const caddy = small.filter((r) => r.target.startsWith('caddy'));
      const basis = caddy.length > 0 ? caddy : small.filter((r) => !r.target.startsWith('direct'));
      rate = basis.length > 0 ? Math.round(0.7 * Math.min(...basis.map((r) => r.reqPerSec))) : 1000;
    } else {
      rate = options.rate;
    }
    for (let round = 0; round < options.openRounds; round++) {
      for (const [position, target] of rotate(targets, round).entries()) {
        cells.push(await cellOnce(round, position, OPEN_LOOP_WORKLOAD, target, rate, options.openDurationMs));
      }
    }
  }
  await pool.stop();

  const all = summarise(cells);
  const labels = new Map(targets.map((t) => [t.key, t.label]));
  const workloadLabels = new Map([...WORKLOADS, OPEN_LOOP_WORKLOAD].map((w) => [w.name, w.label]));
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    caddy: started.caddyVersion,
    commit: gitCommit(),
    loadAvgBefore,
    loadAvgAfter: loadavg(),
    pinned: options.sutCpu !== null ? { sut: options.sutCpu, load: options.loadCpu } : null,
  };
  const report = [
    `Spooky side-by-side bench, ${startedAt.toISOString()} (${options.quick ? 'quick' : 'full'}; ${options.rounds} rounds × ${options.durationMs / 1000} s after ${options.warmupMs / 1000} s warm-up; ${options.generators} load generators)`,
    `Machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.caddy ? `Caddy ${machine.caddy.split(' ')[0]}` : 'no Caddy'}, commit ${machine.commit ?? '?'}, load average ${loadAvgBefore.map((l) => l.toFixed(1)).join(' ')} before / ${machine.loadAvgAfter.map((l) => l.toFixed(1)).join(' ')} after; ${machine.pinned ? `SUT on CPU ${machine.pinned.sut}, load on CPU ${machine.pinned.load}` : 'not pinned'}`,
    '',
    closedLoopTable(all.filter((r) => r.workload !== OPEN_LOOP_WORKLOAD.name), labels, workloadLabels),
    '',
    'CPU µs/req of the system under test by thread (closed loop; medians over rounds):',
    '',
    threadTable(all.filter((r) => r.workload !== OPEN_LOOP_WORKLOAD.name), labels, workloadLabels),
    '',
    'Noise floor (direct measured twice per round):',
    ...noiseFloorLines(all, 'direct-aa', workloadLabels),
    ...(options.targets.includes('spooky-h1-baseline')
      ? ['', 'A/B: Spooky → H1 ÷ the baseline checkout, per round (closed loop):', ...pairLines(cells.filter((c) => c.workload !== OPEN_LOOP_WORKLOAD.name), 'spooky-h1', 'spooky-h1-baseline', workloadLabels)]
      : []),
    ...(options.targets.includes('spooky-h1-nobatch')
      ? ['', 'A/B: Spooky → H1 (SCHED_BATCH, the default) ÷ the default scheduling policy, per round (closed loop):', ...pairLines(cells.filter((c) => c.workload !== OPEN_LOOP_WORKLOAD.name), 'spooky-h1', 'spooky-h1-nobatch', workloadLabels)]
      : []),
    ...(options.targets.includes('caddy-h2-batch') && options.targets.includes('caddy-h2')
      ? ['', 'A/B: Caddy → H2 under SCHED_BATCH ÷ Caddy → H2, per round (closed loop):', ...pairLines(cells.filter((c) => c.workload !== OPEN_LOOP_WORKLOAD.name), 'caddy-h2-batch', 'caddy-h2', workloadLabels)]
      : []),
    ...(options.targets.includes('spooky-h1-b')
      ? ['', `A/B: Spooky → H1 with NODE_OPTIONS=${options.bNodeOptions} ÷ without, per round (closed loop):`, ...pairLines(cells.filter((c) => c.workload !== OPEN_LOOP_WORKLOAD.name), 'spooky-h1-b', 'spooky-h1', workloadLabels)]
      : []),
    ...(options.openRounds > 0
      ? ['', `Open loop: small GETs at a fixed ${rate} req/s (${options.rate === 'auto' ? '70 % of the slower Caddy row above' : '--rate'}), ${OPEN_LOOP_WORKLOAD.connections} connections, latency from the scheduled send time, ${options.openRounds} rounds × ${options.openDurationMs / 1000} s:`, '', openLoopTable(all.filter((r) => r.workload === OPEN_LOOP_WORKLOAD.name), labels)]
      : []),
    ...started.skipped.map((s) => `Skipped: ${s}`),
    '',
  ].join('\n');
  console.log(report);
  const jsonFile = options.json ?? (options.out ? options.out.replace(/\.md$/, '') + '.json' : join(tmpdir(), `spooky-bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`));
  if (options.out) writeFileSync(options.out, report);
  writeFileSync(jsonFile, `${JSON.stringify({ startedAt: startedAt.toISOString(), options, machine, openLoopRate: rate, targets, cells, summary: all }, null, 2)}\n`);
  console.error(`bench: ${options.out ? `report in ${options.out}, ` : ''}raw rounds in ${jsonFile} (${elapsed()})`);
}

await main(run);
