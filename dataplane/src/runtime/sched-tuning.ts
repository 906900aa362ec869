/**
 * Linux scheduling policy of the data plane's threads: SCHED_BATCH, applied once by the
 * primary at start (main.ts) to every thread it has; the serving workers it forks and every
 * thread created later (the QUIC library's worker, V8's and libuv's helpers) inherit it.
 *
 * Why: the QUIC library runs its own worker thread, and the JS thread wakes it for every
 * response it sends. Under the default policy (SCHED_OTHER) a woken thread may preempt its
 * waker at once, so on a busy core each response costs two context switches and the worker's
 * cache-cold start. SCHED_BATCH is the same fair scheduler and the same nice level without
 * wake-up preemption: the woken thread runs at the waker's next yield (it was about to block
 * on its sockets anyway). Measured side by side (bench/README.md, "SCHED_BATCH"): the library
 * worker's CPU per small GET 70 → 30 µs, the whole process 192 → 149 µs (0.76×), 64 KiB GETs
 * 0.94×, and at 2 500 req/s open loop more headroom (72 vs 84 % of the core). The cost is
 * latency only when the core is oversubscribed by other work; then a wake-up waits at most
 * one scheduler slice.
 *
 * Policy is set with util-linux's `chrt` (Debian's is always installed; Node has no API for
 * it). No privilege is needed to move one's own threads between non-real-time policies.
 * `SPOOKY_SCHED_BATCH=0` keeps the default policy; anything else, or unset, applies it.
 * Failure (no `chrt`, a seccomp profile that forbids it, not Linux) is reported, never fatal.
 */
import { execFileSync } from 'node:child_process';

export const SCHED_BATCH_ENV = 'SPOOKY_SCHED_BATCH';

export type SchedOutcome =
  | { readonly applied: true }
  | { readonly applied: false; readonly reason: 'disabled' | 'not_linux' | 'failed'; readonly detail?: string };

/** Whether the environment asks for SCHED_BATCH (pure). */
export function wantsSchedBatch(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): SchedOutcome | null {
  if (env[SCHED_BATCH_ENV] === '0') return { applied: false, reason: 'disabled' };
  if (platform !== 'linux') return { applied: false, reason: 'not_linux' };
  return null;
}

/** Applies SCHED_BATCH to every thread of `pid` (default: this process). Bounded: 2 s. */
export function applySchedBatch(env: NodeJS.ProcessEnv, pid: number = process.pid, chrt = 'chrt'): SchedOutcome {
  const skip = wantsSchedBatch(env);
  if (skip !== null) return skip;
  try {
    execFileSync(chrt, ['--batch', '--all-tasks', '--pid', '0', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 2000 });
    return { applied: true };
  } catch (err) {
    const detail = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    return { applied: false, reason: 'failed', detail };
  }
}
