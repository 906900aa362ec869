/**
 * Live traffic facts about one backend of one upstream, read by least-connections and
 * latency-aware balancing. Held by LongLivedState under (upstream name, backend address), so
 * they survive generation swaps and are dropped when no generation names the backend.
 * Written only by forwarding/ (stats-transport.ts): `begin` at dispatch, `end` when the try
 * finished (body complete, failed or cancelled), a latency sample at the response head.
 *
 * EWMA rules (DATAPLANE.md, latency-aware):
 *  - a response head with status < 500: ewma ← α·latency + (1-α)·ewma (α = 0.2); the first
 *    sample sets ewma to the latency;
 *  - a 5xx head: not sampled (a fast error must not look like a fast backend);
 *  - a failure before any head (connect, TLS, timeout, reset): ewma ← max(ewma, latency, 1 s).
 */

export const EWMA_ALPHA = 0.2;
export const FAILURE_FLOOR_MS = 1000;

/** Pure EWMA step for one successful sample; `previous` null = never sampled. */
export function nextEwma(previous: number | null, latencyMs: number): number {
  return previous === null ? latencyMs : EWMA_ALPHA * latencyMs + (1 - EWMA_ALPHA) * previous;
}

/** Pure EWMA step for a failure before the response head. */
export function failedEwma(previous: number | null, latencyMs: number): number {
  return Math.max(previous ?? 0, latencyMs, FAILURE_FLOOR_MS);
}

/**
 * Told when a BackendStats changes (balancing/load-tree.ts keeps backends ordered by load).
 * A stats object feeds ONE watcher: the latest to `watch` it. The one it replaces is told
 * `displaced()` and must stop trusting what it saw (its balancer goes back to scanning), so a
 * retired generation's watcher is neither fed nor leaked by the stats it shared with the new
 * generation, and no one ever has to unregister.
 */
export interface StatsWatcher {
  statsChanged(slot: number): void;
  displaced(): void;
}

export class BackendStats {
  #active = 0;
  #ewmaMs = 0;
  #sampled = false;
  #watcher: StatsWatcher | null = null;
  #slot = 0;

  /** Tries dispatched and not finished. */
  get active(): number {
    return this.#active;
  }
  /** Latency EWMA in milliseconds; meaningful only when `sampled`. */
  get ewmaMs(): number {
    return this.#ewmaMs;
  }
  /** Once true, stays true. */
  get sampled(): boolean {
    return this.#sampled;
  }

  begin(): void {
    this.#active++;
    if (this.#watcher !== null) this.#watcher.statsChanged(this.#slot);
  }

  end(): void {
    if (this.#active > 0) this.#active--;
    if (this.#watcher !== null) this.#watcher.statsChanged(this.#slot);
  }

  /** A response head arrived after `latencyMs`; 5xx heads are not sampled. */
  recordHead(status: number, latencyMs: number): void {
    if (status >= 500) return;
    this.#ewmaMs = nextEwma(this.#sampled ? this.#ewmaMs : null, latencyMs);
    this.#sampled = true;
    if (this.#watcher !== null) this.#watcher.statsChanged(this.#slot);
  }

  /** The try failed before any head after `latencyMs` (not for client aborts). */
  recordFailure(latencyMs: number): void {
    this.#ewmaMs = failedEwma(this.#sampled ? this.#ewmaMs : null, latencyMs);
    this.#sampled = true;
    if (this.#watcher !== null) this.#watcher.statsChanged(this.#slot);
  }

  /** From now on `watcher.statsChanged(slot)` follows every change; the previous watcher is displaced. */
  watch(watcher: StatsWatcher, slot: number): void {
    const previous = this.#watcher;
    this.#watcher = watcher;
    this.#slot = slot;
    if (previous !== null && previous !== watcher) previous.displaced();
  }
}

/** The LongLivedState key of a backend's stats. */
export function backendStatsKey(upstream: string, address: string): string {
  return `${upstream}\u0000${address}`;
}
