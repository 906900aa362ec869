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
 * `SPOOKY_GC_EXTERNAL_IN_GLOBAL=0` in the environment leaves V8's default.
 *
 * `--heap-growing-percent=300`: after each mark-compact V8 sets the next limit to the live
 * size × a growing factor it picks from its GC and mutator speeds (≈ 1.1–4); with the flag
 * above that limit also bounds the garbage body Buffers, so a small factor means a major GC
 * after a few tens of MB of relayed bodies — each one marking the whole ≈ 50 MB live heap on
 * V8's helper threads. Still ≈ 3 majors a second under 1 MiB GETs, and the helpers' CPU was
 * ≈ 30 % of the worker's (bench/README.md "64 KiB and 1 MiB over H1"). A fixed factor of 4
 * (live + 300 %): −20–30 % CPU per 64 KiB and 1 MiB GET (the helpers' share from ≈ 30 % to
 * ≈ 7–10 %), small GETs about the same, peak RSS within the runs' spread. The limit follows the live heap, so a
 * proxy's steady live set (config, pools) bounds it; the idle release (idle-memory.ts) still
 * returns it after load. V8 reads the flag at each limit computation, so run time works here
 * too. `SPOOKY_GC_HEAP_GROWING_PERCENT=<n>` sets another factor, `0` leaves V8's own choice.
 *
 * `--no-allocation-site-pretenuring`: V8 switches an object or array literal's allocation site
 * to allocate straight in the old generation once a scavenge finds nearly all of its objects
 * alive. In a proxy that happens whenever a scavenge lands in a long turn (every in-flight
 * request is alive then), and it picks sites in Node's streams and event emitters, the QUIC
 * library and Spooky alike. Their objects then die in the old generation, where only a
 * mark-compact frees them, and until it runs every young object they point to counts as live:
 * each scavenge of a 64 MB young generation at 3 000 small GETs/s kept ≈ 10–12 MB and promoted
 * it at the next (30–60 ms pauses on the pinned core); without pretenuring 1–2 MB. Converting
 * Spooky's own per-request literals to classes did not change it (the other sites hold the same
 * graphs). Closed-loop CPU per request was the same or lower with it off (bench/README.md,
 * "Pretenuring and the survivors"). `SPOOKY_GC_PRETENURING=1` keeps V8's default.
 */
import { setFlagsFromString } from 'node:v8';

export const GC_EXTERNAL_IN_GLOBAL_ENV = 'SPOOKY_GC_EXTERNAL_IN_GLOBAL';
export const GC_HEAP_GROWING_PERCENT_ENV = 'SPOOKY_GC_HEAP_GROWING_PERCENT';
export const GC_PRETENURING_ENV = 'SPOOKY_GC_PRETENURING';
export const DEFAULT_HEAP_GROWING_PERCENT = 300;

/** The V8 flags the environment asks for (pure: what applyGcTuning sets). */
export function gcTuningFlags(env: NodeJS.ProcessEnv): string[] {
  const flags: string[] = [];
  if (env[GC_EXTERNAL_IN_GLOBAL_ENV] !== '0') flags.push('--external-memory-accounted-in-global-limit');
  const raw = env[GC_HEAP_GROWING_PERCENT_ENV];
  const asked = raw === undefined || raw === '' ? DEFAULT_HEAP_GROWING_PERCENT : Number(raw);
  // Not a whole number in 1..1000: the default, rather than a flag V8 would reject or misread.
  const percent = Number.isInteger(asked) && asked >= 0 && asked <= 1000 ? asked : DEFAULT_HEAP_GROWING_PERCENT;
  if (percent > 0) flags.push(`--heap-growing-percent=${percent}`);
  if (env[GC_PRETENURING_ENV] !== '1') flags.push('--no-allocation-site-pretenuring');
  return flags;
}

/** Applies the tuning the environment asks for; returns the flags set. */
export function applyGcTuning(env: NodeJS.ProcessEnv): string[] {
  const flags = gcTuningFlags(env);
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
