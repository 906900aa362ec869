/**
 * The data plane's resilience gauges (part of its registry, metrics.ts): read from the watched
 * LongLivedState at each scrape, so the request path pays nothing for them. Before a state is
 * watched they report nothing (breakers, permits, admission limit) or 0 (brownout, queue).
 *
 * - spooky_breaker_state{upstream,backend}     0 closed / 1 open / 2 half-open (`backend` is the
 *                                              address: breakers are keyed by it)
 * - spooky_inflight_permits{scope,upstream}    permits held: scope global (upstream "") or upstream
 * - spooky_admission_limit                     the adaptive concurrency limit now
 * - spooky_brownout_active                     1 while brownout sheds non-core upstreams
 * - spooky_route_queue_waiting{lane}           requests waiting in the route queue, lane upstream
 *                                              (upstream cap) | backend (backend caps)
 */
import { Gauge, type Registry } from 'prom-client';
import type { AdaptiveAdmission } from '../resilience/adaptive-admission.ts';
import type { Brownout } from '../resilience/brownout.ts';
import { BREAKER_STATE_VALUE, type BreakerRegistry } from '../resilience/circuit-breaker.ts';
import type { InflightLimiter } from '../resilience/inflight-limiter.ts';
import type { RouteQueue } from '../resilience/route-queue.ts';

/** The parts of LongLivedState the resilience gauges read at scrape time. */
export interface WatchedResilience {
  readonly breakers: BreakerRegistry;
  readonly inflight: InflightLimiter;
  readonly admission: AdaptiveAdmission;
  readonly brownout: Brownout;
  readonly routeQueue: RouteQueue<unknown, unknown>;
}

/** Registers the gauges in `registry`; the returned function sets the state they read from then on. */
export function registerResilienceGauges(registry: Registry): (state: WatchedResilience) => void {
  let watched: WatchedResilience | null = null;
  new Gauge({
    name: 'spooky_breaker_state',
    help: 'Circuit breaker state per backend: 0 closed, 1 open, 2 half-open.',
    labelNames: ['upstream', 'backend'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (watched === null) return;
      for (const [key, state] of watched.breakers.states(performance.now())) {
        const cut = key.indexOf('\u0000');
        this.set({ upstream: key.slice(0, cut), backend: key.slice(cut + 1) }, BREAKER_STATE_VALUE[state]);
      }
    },
  });
  new Gauge({
    name: 'spooky_inflight_permits',
    help: 'In-flight permits held, globally (upstream "") and per upstream.',
    labelNames: ['scope', 'upstream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (watched === null) return;
      this.set({ scope: 'global', upstream: '' }, watched.inflight.global.active);
      for (const [name, gauge] of watched.inflight.upstreams()) this.set({ scope: 'upstream', upstream: name }, gauge.active);
    },
  });
  new Gauge({
    name: 'spooky_admission_limit',
    help: 'The adaptive admission concurrency limit now (requests to upstreams beyond it get 503 admission_limit).',
    registers: [registry],
    collect() {
      if (watched !== null) this.set(watched.admission.limit);
    },
  });
  new Gauge({
    name: 'spooky_brownout_active',
    help: '1 while brownout sheds requests to non-core upstreams, else 0.',
    registers: [registry],
    collect() {
      this.set(watched?.brownout.active === true ? 1 : 0);
    },
  });
  new Gauge({
    name: 'spooky_route_queue_waiting',
    help: 'Requests waiting in the route queue: lane upstream (per-upstream cap full) or backend (every backend cap full).',
    labelNames: ['lane'] as const,
    registers: [registry],
    collect() {
      const upstreamLane = watched?.routeQueue.upstreamWaiting ?? 0;
      this.set({ lane: 'upstream' }, upstreamLane);
      this.set({ lane: 'backend' }, (watched?.routeQueue.length() ?? 0) - upstreamLane);
    },
  });
  return (state) => {
    watched = state;
  };
}
