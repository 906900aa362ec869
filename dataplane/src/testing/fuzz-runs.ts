/** Run count of a fuzz property: BASE at scale 1 (the test command), ×100 under `npm run fuzz`. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env.SPOOKY_FUZZ_SCALE ?? '1')));
}
