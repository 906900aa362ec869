/**
 * In-flight caps: global, per upstream and per backend (`performance.global_inflight_limit`,
 * `per_upstream_inflight_limit`, `per_backend_inflight_limit`). Try-acquire only; nothing
 * queues here. A full global cap sheds at once (503 `inflight_global`); a full upstream cap or
 * full backend caps make the request wait in the bounded route queue (route-queue.ts), holding
 * nothing, or shed when it is full.
 *
 * Two steps, matching the attempt loop: `admit(upstream)` takes the global and the upstream
 * permit for the whole request (all or none); `acquireBackend(backend)` takes a backend permit
 * per attempt (a full backend is skipped like an unavailable one). Every successful acquire is
 * paired with exactly one release (the request's `defer`, the attempt's end).
 * Gauges are plain objects resolved once per upstream / backend at compile time and kept in
 * long-lived state so counts survive generation swaps. Cost: two compares and increments, no
 * allocation.
 */
import type { ShedReason } from './reasons.ts';

/** One counted scope; `limit` may be changed by a new generation (current holders keep their permits). */
export class InflightGauge {
  active = 0;
  limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }
}

export class InflightLimiter {
  readonly global: InflightGauge;
  readonly #upstreams = new Map<string, InflightGauge>();
  readonly #backends = new Map<string, InflightGauge>();

  constructor(globalLimit: number) {
    this.global = new InflightGauge(globalLimit);
  }

  /** The gauge of an upstream (created on first use, limit updated). */
  upstream(name: string, limit: number): InflightGauge {
    return gauge(this.#upstreams, name, limit);
  }

  /** The gauge of a backend, keyed by backendStatsKey(upstream, address). */
  backend(key: string, limit: number): InflightGauge {
    return gauge(this.#backends, key, limit);
  }

  /** Global + upstream permits, both or neither; null when admitted. */
  admit(upstream: InflightGauge): ShedReason | null {
    if (!this.global.tryAcquire()) return 'inflight_global';
    if (!upstream.tryAcquire()) {
      this.global.release();
      return 'inflight_upstream';
    }
    return null;
  }

  /** Releases what `admit` took. */
  release(upstream: InflightGauge): void {
    upstream.release();
    this.global.release();
  }

  /** A backend permit for one attempt; null when taken. */
  acquireBackend(backend: InflightGauge): ShedReason | null {
    return backend.tryAcquire() ? null : 'inflight_backend';
  }

  /** Drops gauges of upstreams / backends no longer named once they are idle (held permits are still released into them). */
  retain(upstreams: ReadonlySet<string>, backends: ReadonlySet<string>): void {
    for (const [k, g] of this.#upstreams) if (!upstreams.has(k) && g.active === 0) this.#upstreams.delete(k);
    for (const [k, g] of this.#backends) if (!backends.has(k) && g.active === 0) this.#backends.delete(k);
  }

  /** Upstream gauges by name (for the in-flight permits gauge). */
  upstreams(): IterableIterator<[string, InflightGauge]> {
    return this.#upstreams.entries();
  }

  sizes(): { readonly upstreams: number; readonly backends: number } {
    return { upstreams: this.#upstreams.size, backends: this.#backends.size };
  }
}

function gauge(map: Map<string, InflightGauge>, key: string, limit: number): InflightGauge {
  let g = map.get(key);
  if (g === undefined) {
    g = new InflightGauge(limit);
    map.set(key, g);
  }
  g.limit = limit;
  return g;
}
