/**
 * Measures one cell: one job of the generator pool against one target, CPU of the target's
 * process tree, of the generators and of the Node origins sampled at the window edges.
 */
import type { CellResult } from './cell-result.ts';
import type { GeneratorPool } from './generator-pool.ts';
import { clockTicksPerSecond, sampleTrees, THREAD_CLASSES, type TreeSample } from './proc-cpu.ts';
import type { Target } from './targets.ts';
import type { Workload } from './workloads.ts';

export interface CellPlan {
  readonly round: number;
  readonly position: number;
  readonly workload: Workload;
  readonly target: Target;
  /** Closed loop: the workload's own connections × streams. Open loop: rate > 0, streams 0. */
  readonly ratePerSec: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

function cpuSeconds(a: TreeSample, b: TreeSample, root: number): number {
  return ((b.ticks.get(root) ?? 0) - (a.ticks.get(root) ?? 0)) / clockTicksPerSecond();
}

/** The generator never opened the measured window (e.g. its connections never came up). */
export class CellNotStarted extends Error {}

export async function measureCell(pool: GeneratorPool, plan: CellPlan): Promise<CellResult> {
  const { target, workload } = plan;
  const open = plan.ratePerSec > 0;
  const roots = [target.rootPid, ...pool.pids, ...(target.originPid === null ? [] : [target.originPid])];
  let first: TreeSample | null = null;
  let last: TreeSample | null = null;
  const merged = await pool.run(
    {
      port: target.port,
      authority: target.authority,
      workload,
      connections: workload.connections,
      streams: open ? 0 : workload.streams,
      ratePerSec: plan.ratePerSec,
      warmupMs: plan.warmupMs,
      durationMs: plan.durationMs,
    },
    (edge) => {
      if (edge === 'start') first = sampleTrees(roots, [target.rootPid]);
      else last = sampleTrees(roots, [target.rootPid]);
    },
  );
  const a = first as TreeSample | null;
  const b = last as TreeSample | null;
  if (!a || !b) throw new CellNotStarted(`${target.key} ${workload.name}: CPU window not sampled`);
  const windowSec = (b.atMs - a.atMs) / 1000;
  const sut = cpuSeconds(a, b, target.rootPid);
  const load = pool.pids.reduce((sum, pid) => sum + cpuSeconds(a, b, pid), 0);
  const origin = target.originPid === null ? null : cpuSeconds(a, b, target.originPid);
  const h = merged.latency;
  const threadUsPerReq: Record<string, number> = {};
  const ta = a.threads.get(target.rootPid);
  const tb = b.threads.get(target.rootPid);
  for (const cls of THREAD_CLASSES) {
    const ticks = (tb?.get(cls) ?? 0) - (ta?.get(cls) ?? 0);
    threadUsPerReq[cls] = merged.completed > 0 ? (ticks / clockTicksPerSecond()) * 1e6 / merged.completed : Number.NaN;
  }
  return {
    round: plan.round,
    position: plan.position,
    workload: workload.name,
    target: target.key,
    mode: open ? 'open' : 'closed',
    connections: workload.connections,
    streams: open ? 0 : workload.streams,
    offeredRate: open ? plan.ratePerSec : 0,
    windowSec,
    completed: merged.completed,
    reqPerSec: merged.completed / (plan.durationMs / 1000),
    servedPerSec: open ? merged.served / (plan.durationMs / 1000) : 0,
    mbitPerSec: (merged.bytes * 8) / 1e6 / (plan.durationMs / 1000),
    cpuUsPerReq: merged.completed > 0 ? (sut * 1e6) / merged.completed : Number.NaN,
    threadUsPerReq,
    sutCorePct: (100 * sut) / windowSec,
    loadCorePct: (100 * load) / windowSec,
    originCorePct: origin === null ? null : (100 * origin) / windowSec,
    p50Ms: h.quantileMs(0.5),
    p90Ms: h.quantileMs(0.9),
    p99Ms: h.quantileMs(0.99),
    maxMs: h.maxMs(),
    errors: merged.errors,
    sendLagP99Ms: merged.sendLagP99Ms,
    sendLagMaxMs: merged.sendLagMaxMs,
    treeChanged: a.members.get(target.rootPid) !== b.members.get(target.rootPid),
  };
}
