/**
 * Run count of a fuzz property: `base` in the test command, scaled by SPOOKY_FUZZ_SCALE
 * (`npm run fuzz` sets 100).
 */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env.SPOOKY_FUZZ_SCALE ?? '1')));
}
