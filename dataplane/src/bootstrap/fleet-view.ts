/**
 * The primary's admin answers built from its workers (admin/admin-server.ts):
 * - workersView(): every serving worker's status, asked over IPC in parallel, each bounded by
 *   `timeoutMs`; a worker that does not answer in time is listed with seq (and logLevel) null and is left
 *   out of the health verdict (a crashed one is being replaced by the supervisor).
 * - fleetMetrics(): the primary's registry plus every answering worker's, merged with
 *   prom-client's AggregatorRegistry.aggregate: counters and histograms summed, gauges summed
 *   unless the family says otherwise (`aggregator` in observability/metrics.ts: the
 *   generation info takes the max, backend health the min).
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { WorkersView } from '../admin/admin-server.ts';
import type { WorkerHandle, WorkerStatus } from '../apply/worker-handle.ts';

export async function workersView(workers: readonly WorkerHandle[], timeoutMs: number): Promise<WorkersView> {
  const answers = await Promise.all(workers.map((w) => w.status(timeoutMs).then((s): WorkerStatus | null => s, () => null)));
  const known = answers.filter((a): a is WorkerStatus => a !== null);
  return {
    listeners: known[0]?.listeners ?? [],
    healthUnreadyReason: known.map((a) => a.healthUnreadyReason).find((r) => r !== null) ?? null,
    workers: workers.map((w, i) => ({ slot: w.slot, pid: w.pid, seq: answers[i]?.serving?.ref.seq ?? null, logLevel: answers[i]?.logLevel ?? null })),
  };
}

export async function fleetMetrics(primary: Registry, workers: readonly WorkerHandle[], timeoutMs: number): Promise<{ contentType: string; text: string }> {
  const parts = await Promise.all([primary.getMetricsAsJSON(), ...workers.map((w) => w.metrics(timeoutMs).catch(() => null))]);
  const merged = AggregatorRegistry.aggregate(parts.filter((p) => p !== null));
  return { contentType: merged.contentType, text: await merged.metrics() };
}
