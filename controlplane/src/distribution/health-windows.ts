/**
 * The per-generation health windows of a Report (proto GenerationHealth) as the HealthSink
 * (ports.ts) receives them, validated at the boundary: what a node (or whatever speaks on the
 * gRPC port) sends decides rollout gates, so a malformed window is dropped, never repaired.
 *
 * A window is kept when: it names a generation (digest present) of the session's scope;
 * from < to, both positive integers; requests, local_5xx, upstream_5xx and every latency count
 * are integers ≥ 0; local_5xx + upstream_5xx ≤ requests (the two are disjoint: the proxy's own
 * 5xx and relayed ones); and there are exactly LATENCY_BUCKET_BOUNDS_MS.length + 1 counts
 * (another bucket layout cannot be merged with the fleet's).
 *
 * Dropped windows are counted by reason in spooky_cp_health_windows_dropped_total{reason}.
 */
import { type GenerationHealth, LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import type pino from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { GenerationHealthFacts, HealthSink } from './ports.ts';
import { fromWireRef } from './wire-refs.ts';

export type DropReason = 'generation' | 'scope' | 'window' | 'counts' | 'errors' | 'latency_layout';

const REASONS: readonly DropReason[] = ['generation', 'scope', 'window', 'counts', 'errors', 'latency_layout'];
const NAME = 'spooky_cp_health_windows_dropped_total';
const EXPECTED_BUCKETS = LATENCY_BUCKET_BOUNDS_MS.length + 1;

export interface CheckedWindows {
  readonly windows: readonly GenerationHealthFacts[];
  /** One reason per dropped window, in Report order. */
  readonly dropped: readonly DropReason[];
}

/** Validates and converts the windows of one Report from a node of `scope`. */
export function checkHealthWindows(scope: string, wire: readonly GenerationHealth[]): CheckedWindows {
  const windows: GenerationHealthFacts[] = [];
  const dropped: DropReason[] = [];
  for (const w of wire) {
    const reason = problem(scope, w);
    if (reason !== null) {
      dropped.push(reason);
      continue;
    }
    const generation = fromWireRef(w.generation);
    if (generation === null) continue; // excluded by problem(); keeps the type narrow
    windows.push({
      generation,
      fromMs: w.fromUnixMs,
      toMs: w.toUnixMs,
      requests: w.requests,
      local5xx: w.local5xx,
      upstream5xx: w.upstream5xx,
      latencyCounts: [...w.latencyBucketCounts],
    });
  }
  return { windows, dropped };
}

export interface HealthSinks {
  readonly health?: HealthSink;
  readonly onHealthDropped?: (reason: DropReason) => void;
}

/**
 * One Report's windows: the valid ones to the sink (a failing sink is logged, never ends the
 * stream), the malformed ones counted with one debug line ("distribution: malformed health
 * windows dropped" {dropped, reasons}). `at` is the control plane's clock.
 */
export function forwardHealthWindows(
  sinks: HealthSinks,
  log: pino.Logger,
  nodeId: string,
  scope: string,
  wire: readonly GenerationHealth[],
  at: Date,
): void {
  const checked = checkHealthWindows(scope, wire);
  if (checked.dropped.length > 0) {
    for (const reason of checked.dropped) sinks.onHealthDropped?.(reason);
    log.debug({ dropped: checked.dropped.length, reasons: checked.dropped }, 'distribution: malformed health windows dropped');
  }
  if (checked.windows.length === 0 || sinks.health === undefined) return;
  try {
    sinks.health.windows(nodeId, scope, checked.windows, at);
  } catch (err) {
    log.error({ err }, 'distribution: health sink failed');
  }
}

function problem(scope: string, w: GenerationHealth): DropReason | null {
  const generation = fromWireRef(w.generation);
  if (generation === null) return 'generation';
  if (generation.scope !== scope) return 'scope';
  if (!positiveInteger(w.fromUnixMs) || !positiveInteger(w.toUnixMs) || w.fromUnixMs >= w.toUnixMs) return 'window';
  if (!count(w.requests) || !count(w.local5xx) || !count(w.upstream5xx)) return 'counts';
  if (w.local5xx + w.upstream5xx > w.requests) return 'errors';
  if (w.latencyBucketCounts.length !== EXPECTED_BUCKETS) return 'latency_layout';
  if (!w.latencyBucketCounts.every(count)) return 'counts';
  return null;
}

function count(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function positiveInteger(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

/** Counts dropped windows by reason; a no-op without a registry. One counter per registry. */
export function healthDropCounter(registry?: Registry): (reason: DropReason) => void {
  if (!registry) return () => {};
  const existing = registry.getSingleMetric(NAME);
  const counter =
    existing instanceof Counter
      ? (existing as Counter<'reason'>)
      : new Counter({ name: NAME, help: 'Report health windows dropped as malformed, by reason', labelNames: ['reason'] as const, registers: [registry] });
  for (const reason of REASONS) counter.inc({ reason }, 0);
  return (reason) => counter.inc({ reason });
}
