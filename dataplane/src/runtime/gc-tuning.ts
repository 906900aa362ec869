/**
 * V8 heap tuning applied at process start, before any request is served (main.ts).
 *
 * `--external-memory-accounted-in-global-limit`: a proxy moves bodies through Buffers whose
 * memory is outside the JS heap (every socket read of an upstream response is a new
 * ArrayBuffer). By default V8 starts a full mark-compact whenever that external memory grows by
 * a fixed step since the last GC, regardless of how little of the JS heap is in use; with
 * 1 MiB responses that was a major GC every ≈ 25 requests (≈ 40 per 1 000), most of the
 * worker's GC time. With the flag V8 counts external memory in its global allocation limit
 * instead, which grows with the live size: ≈ 13 majors per 1 000 such requests and less than
 * half the GC time, for ≈ 40–70 MB more peak RSS under that load (bench/README.md, "Large
 * bodies and GC"). The flag cannot be set through NODE_OPTIONS (Node refuses it there), so it
 * is set here at run time; V8 reads it at each allocation-limit decision.
 *
 * `SPOOKY_GC_EXTERNAL_IN_GLOBAL=0` in the environment leaves V8's default (for A/B runs and
 * for operators who prefer the lower peak RSS).
 */
import { setFlagsFromString } from 'node:v8';

export const GC_EXTERNAL_IN_GLOBAL_ENV = 'SPOOKY_GC_EXTERNAL_IN_GLOBAL';

/** Applies the tuning unless the environment opts out; returns whether it was applied. */
export function applyGcTuning(env: NodeJS.ProcessEnv): boolean {
  if (env[GC_EXTERNAL_IN_GLOBAL_ENV] === '0') return false;
  setFlagsFromString('--external-memory-accounted-in-global-limit');
  return true;
}
