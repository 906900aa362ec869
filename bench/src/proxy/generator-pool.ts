/**
 * The load generator processes (load-generator-main.ts), pinned to the load core, and one
 * job across all of them: connections (and an open loop's rate) split as evenly as possible,
 * one shared schedule, results merged. CPU samples of the system under test are taken at the
 * exact window edges the generators count in (`onWindowEdge`).
 */
import { join } from 'node:path';
import { LatencyHistogram } from './latency-histogram.ts';
import type { GeneratorMessage, GoMessage, JobResult, OrchestratorMessage, PrepareMessage } from './load-protocol.ts';
import type { ProcessRegistry, Tracked } from './process-registry.ts';
import type { Workload } from './workloads.ts';

export interface JobSpec {
  readonly port: number;
  readonly authority: string;
  readonly workload: Workload;
  readonly connections: number;
  /** 0 = open loop at `ratePerSec`. */
  readonly streams: number;
  readonly ratePerSec: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface MergedResult extends Omit<JobResult, 'latency'> {
  readonly latency: LatencyHistogram;
  readonly connected: number;
}

const READY_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;
const DRAIN_MS = 3_000;

/** Splits n into `parts` near-equal non-negative integers (larger ones first). */
export function splitEvenly(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

export class GeneratorPool {
  readonly #procs: Tracked[];
  #nextJob = 1;

  private constructor(procs: Tracked[]) {
    this.#procs = procs;
  }

  static start(reg: ProcessRegistry, count: number, cpu: string | null): GeneratorPool {
    const script = join(import.meta.dirname, 'load-generator-main.ts');
    const procs = Array.from({ length: count }, (_, i) => reg.spawn(`load generator ${i + 1}`, process.execPath, [script], { cpu, stdout: 'ignore', ipc: true }));
    return new GeneratorPool(procs);
  }

  get pids(): number[] {
    return this.#procs.map((p) => p.pid);
  }

  /**
   * Runs one job. `onWindowEdge('start' | 'end')` is called at measureFrom and measureTo
   * (the caller samples CPU there). Rejects when a generator breaks or misses a bound.
   */
  async run(spec: JobSpec, onWindowEdge: (edge: 'start' | 'end') => void): Promise<MergedResult> {
    const jobId = this.#nextJob++;
    const conns = splitEvenly(spec.connections, this.#procs.length);
    const active = this.#procs.map((proc, i) => ({ proc, connections: conns[i]! })).filter((a) => a.connections > 0);
    const ready = await Promise.all(
      active.map(({ proc, connections }) => {
        const prepare: PrepareMessage = {
          type: 'prepare',
          jobId,
          port: spec.port,
          authority: spec.authority,
          workload: spec.workload,
          connections,
          streams: spec.streams,
          ratePerSec: (spec.ratePerSec * connections) / spec.connections,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        };
        return this.#exchange(proc, prepare, jobId, READY_TIMEOUT_MS);
      }),
    );
    const connected = ready.reduce((sum, m) => sum + (m.type === 'ready' ? m.connected : 0), 0);
    const startAtMs = Date.now() + 50;
    const go: GoMessage = {
      type: 'go',
      jobId,
      startAtMs,
      measureFromMs: startAtMs + spec.warmupMs,
      measureToMs: startAtMs + spec.warmupMs + spec.durationMs,
      drainMs: DRAIN_MS,
    };
    const edges = [
      setTimeout(() => onWindowEdge('start'), go.measureFromMs - Date.now()),
      setTimeout(() => onWindowEdge('end'), go.measureToMs - Date.now()),
    ];
    const bound = go.measureToMs - Date.now() + DRAIN_MS + 15_000;
    try {
      const results = await Promise.all(active.map(({ proc }) => this.#exchange(proc, go, jobId, bound)));
      return merge(results, connected);
    } finally {
      for (const t of edges) clearTimeout(t);
    }
  }

  async stop(): Promise<void> {
    for (const p of this.#procs) if (p.child.connected) p.child.send({ type: 'exit' } satisfies OrchestratorMessage);
    await Promise.all(this.#procs.map((p) => Promise.race([p.exited, new Promise((resolve) => setTimeout(resolve, 5000))])));
  }

  /** Sends one message and waits for this job's answer to it. */
  #exchange(proc: Tracked, message: OrchestratorMessage, jobId: number, timeoutMs: number): Promise<GeneratorMessage> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.child.off('message', onMessage);
        proc.child.off('exit', onExit);
      };
      const onMessage = (m: GeneratorMessage): void => {
        if (m.jobId !== jobId) return;
        cleanup();
        if (m.type === 'failed') reject(new Error(`${proc.name}: ${m.error}`));
        else resolve(m);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`${proc.name} exited during job ${jobId}\n${proc.tail()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${proc.name}: no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      proc.child.on('message', onMessage);
      proc.child.once('exit', onExit);
      proc.child.send(message);
    });
  }
}

function merge(messages: readonly GeneratorMessage[], connected: number): MergedResult {
  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let completed = 0;
  let bytes = 0;
  let offered = 0;
  let served = 0;
  let sendLagP99Ms = 0;
  let sendLagMaxMs = 0;
  for (const m of messages) {
    if (m.type !== 'result') continue;
    completed += m.completed;
    bytes += m.bytes;
    offered += m.offered;
    served += m.served;
    latency.merge(m.latency);
    for (const [k, n] of Object.entries(m.errors)) errors[k] = (errors[k] ?? 0) + n;
    sendLagP99Ms = Math.max(sendLagP99Ms, m.sendLagP99Ms);
    sendLagMaxMs = Math.max(sendLagMaxMs, m.sendLagMaxMs);
  }
  return { completed, bytes, latency, errors, offered, served, sendLagP99Ms, sendLagMaxMs, connected };
}
