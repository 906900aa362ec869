/**
 * Node flags for the serving workers. One default of our own: V8's young generation capped at
 * 32 MiB per semi-space (`--max-semi-space-size=32`). On a large machine V8 grows it to 64 MiB
 * and keeps ~128 MB of new space committed after load, never shrinking it while idle (bench/
 * README.md "Memory after load"); 32 halves that. Latency under a 2 000 req/s open loop
 * (bench/README.md "Where the p99 goes"): two A/B runs of 3 rounds each, 32 vs 64, steady-state
 * p99 44–84 ms against 57–107 ms — within this machine's noise, no worse; 16 was clearly worse
 * (2–3× the scavenges). A flag the operator gives — on the command line or in NODE_OPTIONS —
 * wins: ours is then left out. `--no-supervise` (one process, no workers) does not get it.
 */
export const WORKER_SEMI_SPACE_FLAG = '--max-semi-space-size=32';

export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(a));
  return given ? [...execArgv] : [...execArgv, WORKER_SEMI_SPACE_FLAG];
}
