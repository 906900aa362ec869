/**
 * Allocation profile of a data-plane process under load: what the JS heap allocates per
 * request, by call site, including everything the GC has already freed (V8's sampling heap
 * profiler with collected objects kept — Node's own `--heap-prof` reports only what is still
 * alive at exit, which says nothing about the garbage that drives a proxy's scavenges).
 *
 *   NODE_OPTIONS="--import=./bench/src/alloc-profile-preload.ts" SPOOKY_ALLOC_PROFILE=/tmp/alloc \
 *     node bench/src/proxy.bench.ts --targets direct,spooky-h1 --workloads small-get --rounds 2 --open-rounds 0
 *   node bench/src/alloc-summary.ts /tmp/alloc/alloc.<pid>.heapprofile --requests N
 *
 * Only processes running `dataplane/src/main.ts` profile (the supervisor and its serving
 * worker; every other process of the run loads this file and does nothing). Sampling starts
 * `SPOOKY_ALLOC_PROFILE_START_MS` after start (default 3000: start-up left out) and the
 * profile is written `SPOOKY_ALLOC_PROFILE_MS` later (default 20000) to
 * `$SPOOKY_ALLOC_PROFILE/alloc.<pid>.heapprofile`, with the number of requests the process
 * finished while sampling (its `spooky:request:end` events) in `alloc.<pid>.requests` — the
 * `--requests` of alloc-summary.ts. Bench tooling only: never loaded by the data plane itself.
 */
import { subscribe } from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.SPOOKY_ALLOC_PROFILE;
const script = process.argv[1] ?? '';

if (dir !== undefined && dir !== '' && /dataplane[/\\]src[/\\]main\.ts$/.test(script)) {
  const startMs = Number(process.env.SPOOKY_ALLOC_PROFILE_START_MS ?? 3000);
  const lengthMs = Number(process.env.SPOOKY_ALLOC_PROFILE_MS ?? 20000);
  const session = new Session();
  session.connect();
  const fail = (step: string, err: Error | null): boolean => {
    if (err === null) return false;
    process.stderr.write(`alloc-profile: ${step} failed: ${err.message}\n`);
    return true;
  };
  let sampling = false;
  let requests = 0;
  // The data plane's request-end channel (dataplane/src/telemetry/channel-names.ts).
  subscribe('spooky:request:end', () => {
    if (sampling) requests++;
  });
  setTimeout(() => {
    sampling = true;
    session.post(
      'HeapProfiler.startSampling',
      { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true },
      (err) => {
        if (fail('start', err)) return;
        setTimeout(() => {
          sampling = false;
          session.post('HeapProfiler.stopSampling', (stopErr, result) => {
            if (fail('stop', stopErr)) return;
            mkdirSync(dir, { recursive: true });
            const file = join(dir, `alloc.${process.pid}.heapprofile`);
            writeFileSync(file, JSON.stringify(result.profile));
            writeFileSync(join(dir, `alloc.${process.pid}.requests`), `${requests}\n`);
            process.stderr.write(`alloc-profile: ${file} (${lengthMs} ms, ${requests} requests)\n`);
          });
        }, lengthMs).unref();
      },
    );
  }, startMs).unref();
}
