/**
 * Returns the memory a load left behind once the process is idle again (issue 8: heap and RSS
 * back within 20 % of their pre-load values 10 s after load ends; bench/README.md "Memory
 * after load").
 *
 * Why: under load V8 grows its young generation to 2 × 64 MB semi-spaces and its old space;
 * after the load nothing allocates, so no GC runs and the committed heap stays. Even a full GC
 * only moves the freed 256 KiB pages into V8's page pool, which stays resident; the pool is
 * released by a *memory-reducing* GC, which V8's own memory reducer starts only ≈ 8–10 s after
 * a mark-compact that shrank the heap — and idle, no mark-compact happens. A last-resort GC
 * (`gc({ type: 'major', flavor: 'last-resort' })`, V8's CollectAllAvailableGarbage) shrinks the
 * new space, compacts and releases the pool at once (a 300 MB toy heap: RSS 330 → 65 MB).
 *
 * Contract:
 *   - One unref'd interval per process (`intervalMs`, default 1 s) reads the event-loop
 *     utilisation of the last interval (performance.eventLoopUtilization: no hook on the request
 *     path, costs one call a second).
 *   - A sample ≥ `busyThreshold` marks the process as having been under load. After
 *     `idleSamples` consecutive samples < `idleThreshold` following such load, `release()` runs
 *     once; it runs again only after another busy sample and never sooner than `minGapMs`
 *     after the previous one (intermittent load cannot turn it into a periodic pause).
 *   - The release is a blocking GC of tens to a few hundred ms, taken only when the loop was
 *     idle for `idleSamples` intervals, so at most the first request after a quiet spell waits.
 *     The load after a release pays ≈ 1.5× CPU per request for a few seconds (V8 regrows the
 *     young generation it shrank): hence five quiet seconds and one release a minute at most
 *     by default, still within the goal's 10 s (bench/README.md).
 *   - `SPOOKY_IDLE_GC=0` in the environment disables it (A/B runs, operators who prefer none).
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const IDLE_GC_ENV = 'SPOOKY_IDLE_GC';

export interface IdleMemoryPolicy {
  /** Utilisation (0–1) at or above which an interval counts as load. */
  readonly busyThreshold: number;
  /** Utilisation below which an interval counts as idle. */
  readonly idleThreshold: number;
  /** Consecutive idle intervals after load before a release. */
  readonly idleSamples: number;
  /** Minimum time between two releases. */
  readonly minGapMs: number;
}

export const DEFAULT_IDLE_MEMORY_POLICY: IdleMemoryPolicy = {
  busyThreshold: 0.1,
  idleThreshold: 0.03,
  idleSamples: 5,
  minGapMs: 60_000,
};

/**
 * The pure decision: fed one utilisation sample per interval with its time, answers whether to
 * release now. Holds only the state the contract above needs.
 */
export class IdleMemoryDetector {
  readonly #policy: IdleMemoryPolicy;
  #loaded = false;
  #idleStreak = 0;
  #lastReleaseMs = Number.NEGATIVE_INFINITY;

  constructor(policy: IdleMemoryPolicy = DEFAULT_IDLE_MEMORY_POLICY) {
    this.#policy = policy;
  }

  /** One interval's utilisation at `nowMs`; true when the caller should release memory now. */
  sample(utilization: number, nowMs: number): boolean {
    const p = this.#policy;
    if (utilization >= p.busyThreshold) {
      this.#loaded = true;
      this.#idleStreak = 0;
      return false;
    }
    if (utilization >= p.idleThreshold) {
      // Light traffic: neither load nor quiet; a streak of quiet must be unbroken.
      this.#idleStreak = 0;
      return false;
    }
    this.#idleStreak++;
    if (!this.#loaded || this.#idleStreak < p.idleSamples || nowMs - this.#lastReleaseMs < p.minGapMs) return false;
    this.#loaded = false;
    this.#idleStreak = 0;
    this.#lastReleaseMs = nowMs;
    return true;
  }
}

type GcFunction = (options?: { type?: 'major' | 'minor'; flavor?: 'regular' | 'last-resort'; execution?: 'sync' | 'async' }) => void;

let cachedGc: GcFunction | null = null;

/**
 * V8's gc() without `--expose-gc` on the command line: the flag is set at run time and the
 * function taken from a fresh context, so it is never installed on this process's global
 * object (user-visible `globalThis.gc` stays undefined).
 */
export function lastResortGc(): GcFunction {
  if (cachedGc === null) {
    setFlagsFromString('--expose-gc');
    cachedGc = runInNewContext('gc') as GcFunction;
  }
  return cachedGc;
}

export interface IdleMemoryOptions {
  readonly intervalMs?: number;
  readonly policy?: IdleMemoryPolicy;
  /** Called after each release with its duration (logging / metrics); optional. */
  readonly onRelease?: (durationMs: number) => void;
}

export interface IdleMemoryHandle {
  stop(): void;
}

/**
 * Starts the idle release for this process unless `SPOOKY_IDLE_GC=0`; returns null when
 * disabled. Called once at process start (main.ts), in the primary and in every worker.
 */
export function startIdleMemoryRelease(env: NodeJS.ProcessEnv, options: IdleMemoryOptions = {}): IdleMemoryHandle | null {
  if (env[IDLE_GC_ENV] === '0') return null;
  const gc = lastResortGc();
  const detector = new IdleMemoryDetector(options.policy);
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    if (!detector.sample(delta.utilization, performance.now())) return;
    const t = performance.now();
    gc({ type: 'major', flavor: 'last-resort' });
    options.onRelease?.(performance.now() - t);
  }, options.intervalMs ?? 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
