/**
 * Run count of a fuzz property: `base` in the test command, ×SPOOKY_FUZZ_SCALE in `npm run
 * fuzz` (scale 100), so one file serves both.
 */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env['SPOOKY_FUZZ_SCALE'] ?? '1')));
}
