/**
 * Runtime stall metrics of one process, to tell a latency outlier's cause apart: the event loop
 * being blocked (JS work, synchronous I/O), garbage-collection pauses, or neither (then the wait
 * was outside the JS thread: the QUIC library's native worker, the kernel, the upstream).
 *
 * Families (registered on the given registry):
 * - spooky_event_loop_delay_seconds{quantile="0.5"|"0.99"|"1"}  gauge: event-loop delay since the
 *   previous scrape (`perf_hooks.monitorEventLoopDelay`, sampled every RESOLUTION_MS; "1" is the
 *   maximum). The histogram is reset at each scrape, so each scrape sees its own interval; NaN-free:
 *   0 when nothing was sampled. Across workers the primary keeps the largest value (aggregator max).
 * - spooky_gc_pause_seconds_total{kind="minor"|"major"|"incremental"|"weakcb"}  counter: time the
 *   JS thread spent in GC pauses (PerformanceObserver 'gc' entries' duration).
 *
 * Cost: one libuv timer firing every RESOLUTION_MS plus one observer callback per GC; nothing per
 * request. prom-client's default metrics have a similar event-loop lag family
 * (spooky_nodejs_eventloop_lag_*); this one exists so that the quantiles and the GC totals
 * can be read per scrape interval by the bench (bench/src/memory.bench.ts) and dashboards with one
 * stable vocabulary.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, type RecordableHistogram } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Sampling period of the delay histogram: a delay shorter than this is not seen. */
export const RESOLUTION_MS = 10;

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** The quantiles reported, keyed by their label value. */
export function delayQuantiles(h: Pick<RecordableHistogram, 'count' | 'percentile' | 'max'>): { readonly '0.5': number; readonly '0.99': number; readonly '1': number } {
  if (h.count === 0) return { '0.5': 0, '0.99': 0, '1': 0 };
  return { '0.5': h.percentile(50) / 1e9, '0.99': h.percentile(99) / 1e9, '1': h.max / 1e9 };
}

/** Starts sampling; the returned function stops it (the families stay registered). */
export function watchRuntimeStalls(registry: Registry): () => void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  new Gauge({
    name: 'spooky_event_loop_delay_seconds',
    help: `Event-loop delay since the previous scrape (sampled every ${RESOLUTION_MS} ms), by quantile; 1 = the maximum.`,
    labelNames: ['quantile'] as const,
    aggregator: 'max',
    registers: [registry],
    collect() {
      const q = delayQuantiles(histogram);
      this.set({ quantile: '0.5' }, q['0.5']);
      this.set({ quantile: '0.99' }, q['0.99']);
      this.set({ quantile: '1' }, q['1']);
      histogram.reset();
    },
  });
  const pauses = new Counter({
    name: 'spooky_gc_pause_seconds_total',
    help: 'Time spent in garbage-collection pauses, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const children = new Map(Object.entries(GC_KINDS).map(([k, kind]) => [Number(k), pauses.labels({ kind })]));
  for (const child of children.values()) child.inc(0);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { readonly detail?: { readonly kind?: number } | null }).detail?.kind;
      if (kind !== undefined) children.get(kind)?.inc(entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    histogram.disable();
  };
}
