/** Run count of a fuzz property: BASE at scale 1 (the test command), ×100 under `npm run fuzz`. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env.SPOOKY_FUZZ_SCALE ?? '1')));
}

/**
 * Per-input time bound of the data-plane fuzzers, in CPU milliseconds of this process. These
 * targets take microseconds per input; the bound exists to catch a hang (catastrophic regex
 * backtracking, a loop that never ends), so it is generous and measured in CPU time: wall
 * time would flake on a loaded machine (a GC pause or a preempted thread is not a hang).
 */
export const PER_INPUT_CPU_MS = 500;

/** CPU time this process used so far, in ms (user + system). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
