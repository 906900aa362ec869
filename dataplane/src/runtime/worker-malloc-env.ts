/**
 * glibc malloc settings the supervisor puts in each serving worker's environment
 * (bootstrap/supervisor.ts → cluster.fork): glibc reads them once, when the process starts, so
 * they cannot be set from JS inside the process that needs them.
 *
 * `MALLOC_MMAP_THRESHOLD_=32768`: a worker moves bodies through many short-lived native
 * buffers (socket reads of up to 64 KiB, the QUIC library's chunk copies). By default glibc
 * raises its mmap threshold to the size of the largest freed mmapped block (up to 32 MiB), so
 * after the first large bodies all of them are carved from the main heap; freed, they leave it
 * fragmented, and glibc returns only its top, never holes (malloc_trim, which would, is not
 * reachable from JS). After a mixed load that was ≈ 100 MB of the worker's RSS that never came
 * back. A fixed threshold of 32 KiB serves every buffer of that size from its own mapping,
 * unmapped on free: worker RSS 10 s after load +24 % of its pre-load value instead of +100 %
 * (with the idle GC, runtime/idle-memory.ts; bench/README.md "Memory after load"), at no CPU
 * cost measurable above the noise of that bench.
 *
 * Contract: the user's own malloc settings win — when the environment already has
 * `MALLOC_MMAP_THRESHOLD_`, or `GLIBC_TUNABLES` naming `mmap_threshold`, nothing is added.
 * `SPOOKY_WORKER_MALLOC=0` adds nothing (A/B runs). Other C libraries (musl) ignore the name.
 */

export const WORKER_MALLOC_ENV = 'SPOOKY_WORKER_MALLOC';
export const MMAP_THRESHOLD_ENV = 'MALLOC_MMAP_THRESHOLD_';
export const WORKER_MMAP_THRESHOLD_BYTES = 32 * 1024;

/** The variables to add to a worker's environment, given the primary's. */
export function workerMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env[WORKER_MALLOC_ENV] === '0') return {};
  if (env[MMAP_THRESHOLD_ENV] !== undefined) return {};
  if (env['GLIBC_TUNABLES']?.includes('mmap_threshold')) return {};
  return { [MMAP_THRESHOLD_ENV]: String(WORKER_MMAP_THRESHOLD_BYTES) };
}
