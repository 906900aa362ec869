/**
 * The data plane's Prometheus registry (prom-client), one registry per process, families
 * prefixed `spooky_`. Request families are fed only by the pipeline's `spooky:request:end`
 * event; the generation families by the serving applier (through ApplyObserver); the
 * in-flight gauge by ingress (through `trackInflight`).
 *
 * Families (docs/metrics.md has the table, with the Rust Spooky's names beside ours):
 * - spooky_requests_total{route,upstream,status_class,outcome} counter, every request (ingress
 *                                                           refusals included: upstream/route "none");
 *                                                           outcome ∈ REQUEST_OUTCOMES (telemetry/)
 * - spooky_upstream_requests_total{upstream,status_class,outcome} counter, the same requests without
 *                                                           `route` (the Rust Spooky's family); summed at scrape
 * - spooky_request_duration_seconds{route,upstream}        histogram
 * - spooky_inflight_requests                                gauge
 * - spooky_generation_info{seq,digest}                      gauge, 1 for the generation served
 * - spooky_runtime_active_generation                        gauge, seq of the generation served (0: none)
 * - spooky_generation_applies_total{result}                 counter, result ok | rejected
 * - spooky_config_apply_duration_seconds{result}            histogram, push received → swapped in (ok)
 *                                                           or refused (rejected), per process
 * - spooky_health_transitions_total, spooky_backend_healthy, spooky_mirror_requests_total,
 *   spooky_internal_errors_total (0 in a healthy process): fed by their own events (event-families.ts)
 * - spooky_retries_total                                    counter, retries sent (hedges not included)
 * - spooky_retry_denied_total{reason}                       counter, decideRetry refusals (RETRY_REFUSALS)
 * - spooky_hedges_total{upstream,result}                   counter, `sent` per hedge sent, then its result
 *                                                           won | lost | failed, or why none was sent
 *                                                           (HEDGE_RESULTS, resilience/hedge-results.ts)
 * - spooky_overload_shed_by_reason_total{reason}            counter, 503 sheds (SHED_REASONS)
 * - spooky_request_rate_limited{rule,mode}                  counter, mode enforce (429) | shadow (counted only)
 * - spooky_breaker_state, spooky_inflight_permits, spooky_admission_limit, spooky_brownout_active,
 *   spooky_route_queue_waiting: read at scrape from the state given to `watchResilience`
 *   (resilience-gauges.ts)
 * plus prom-client's default process metrics (spooky_process_*, spooky_nodejs_*).
 * `route` and `upstream` are "none" when no route matched. `route` is the upstream name that owns
 * the route in the config (bounded by the config, like `upstream`); `upstream` is the one whose
 * backends served it (the route's own, or its traffic_split pick).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GenerationRef } from '../control/generation-applier.ts';
import type { RequestEndEvent } from '../pipeline/events.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';
import { registerEventFamilies } from './event-families.ts';
import { registerResilienceGauges, type WatchedResilience } from './resilience-gauges.ts';

export type { WatchedResilience } from './resilience-gauges.ts';

/** What the serving applier reports (see apply/serving-applier.ts); `seconds`: time since the push was received. */
export interface ApplyObserver {
  applied(ref: GenerationRef, seconds: number): void;
  rejected(seconds: number): void;
}

export interface DataPlaneMetrics extends ApplyObserver {
  readonly registry: Registry;
  /** Wraps one request's handling: counts it in flight until the promise settles (the returned promise is `work`'s). */
  trackInflight(work: () => Promise<void>): Promise<void>;
  /** Totals for control-plane Reports. */
  counters(): { requestsTotal: number; inflight: number };
  /** Reports breaker states, in-flight permits, admission limit, brownout and route-queue depth of this long-lived state at each scrape. */
  watchResilience(state: WatchedResilience): void;
  /** Stops listening to pipeline events. */
  close(): void;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Applying a generation: parse + compile take milliseconds; binding listeners and large configs take longer. */
const APPLY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: { readonly defaultMetrics?: boolean } = {}): DataPlaneMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'spooky_' });
  let flushRequests = (): void => {};
  const requests = new Counter({
    name: 'spooky_requests_total',
    help: 'Requests finished (ingress refusals included), by route, upstream, status class and outcome.',
    labelNames: ['route', 'upstream', 'status_class', 'outcome'] as const,
    registers: [registry],
    collect() {
      flushRequests();
    },
  });
  const upstreamRequests = new Counter({
    name: 'spooky_upstream_requests_total',
    help: 'Requests finished, by upstream, status class and outcome (spooky_requests_total without route).',
    labelNames: ['upstream', 'status_class', 'outcome'] as const,
    registers: [registry],
    collect() {
      flushRequests();
    },
  });
  const duration = new Histogram({
    name: 'spooky_request_duration_seconds',
    help: 'Time from accept to the end of the response, by route and upstream.',
    labelNames: ['route', 'upstream'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  let inflightNow = 0;
  // Read at scrape time: the request path only moves a number.
  new Gauge({
    name: 'spooky_inflight_requests',
    help: 'Requests accepted and not finished.',
    registers: [registry],
    collect() {
      this.set(inflightNow);
    },
  });
  const generation = new Gauge({
    name: 'spooky_generation_info',
    help: 'The generation being served (value 1).',
    labelNames: ['seq', 'digest'] as const,
    // Across workers (bootstrap/fleet-view.ts): 1 for each generation some worker serves.
    aggregator: 'max',
    registers: [registry],
  });
  const activeGeneration = new Gauge({
    name: 'spooky_runtime_active_generation',
    help: 'Seq of the generation being served (0 before the first).',
    aggregator: 'max',
    registers: [registry],
  });
  const applies = new Counter({
    name: 'spooky_generation_applies_total',
    help: 'Generation apply attempts, by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const applyDuration = new Histogram({
    name: 'spooky_config_apply_duration_seconds',
    help: 'Time from receiving a generation to serving it (result ok) or refusing it (result rejected).',
    labelNames: ['result'] as const,
    buckets: APPLY_BUCKETS,
    registers: [registry],
  });

  const closeEventFamilies = registerEventFamilies(registry);

  const retries = new Counter({ name: 'spooky_retries_total', help: 'Retries sent (hedges not included).', registers: [registry] });
  const retryDenied = new Counter({
    name: 'spooky_retry_denied_total',
    help: 'Retries refused, by decideRetry reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const hedges = new Counter({
    name: 'spooky_hedges_total',
    help: 'Hedges sent (result "sent") and how each hedge delay ended: won, lost, failed, or why no hedge was sent.',
    labelNames: ['upstream', 'result'] as const,
    registers: [registry],
  });
  const shed = new Counter({ name: 'spooky_overload_shed_by_reason_total', help: 'Requests shed with 503, by reason.', labelNames: ['reason'] as const, registers: [registry] });
  const rateLimited = new Counter({
    name: 'spooky_request_rate_limited',
    help: 'Requests refused (mode enforce) or that would have been (mode shadow) by a scoped rate limit, by rule.',
    labelNames: ['rule', 'mode'] as const,
    registers: [registry],
  });
  const watchResilience = registerResilienceGauges(registry);

  let requestsTotal = 0;
  // Label children resolved once per label set (prom-client hashes the label object on every
  // inc/observe otherwise). Bounded: route names × upstream names × 7 status classes × the
  // closed outcome vocabulary, the same sets prom-client keeps anyway.
  // A request child is a plain number added to both request counters at scrape time
  // (prom-client's own `labels()` children still hash the label object on every inc).
  type RequestChild = {
    pending: number;
    readonly labels: { route: string; upstream: string; status_class: string; outcome: string };
    readonly upstreamLabels: { upstream: string; status_class: string; outcome: string };
  };
  type DurationChild = ReturnType<typeof duration.labels>;
  /** route → upstream → status class → outcome. */
  const requestChildren = new Map<string, Map<string, Map<string, Map<string, RequestChild>>>>();
  const requestPending: RequestChild[] = [];
  flushRequests = (): void => {
    for (const child of requestPending) {
      if (child.pending === 0) continue;
      requests.inc(child.labels, child.pending);
      upstreamRequests.inc(child.upstreamLabels, child.pending);
      child.pending = 0;
    }
  };
  /** route → upstream. */
  const durationChildren = new Map<string, Map<string, DurationChild>>();
  const requestChild = (route: string, upstream: string, status: number, outcome: string): RequestChild => {
    let byUpstream = requestChildren.get(route);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      requestChildren.set(route, byUpstream);
    }
    let byClass = byUpstream.get(upstream);
    if (byClass === undefined) {
      byClass = new Map();
      byUpstream.set(upstream, byClass);
    }
    const cls = statusClass(status);
    let byOutcome = byClass.get(cls);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      byClass.set(cls, byOutcome);
    }
    let child = byOutcome.get(outcome);
    if (child === undefined) {
      child = { pending: 0, labels: { route, upstream, status_class: cls, outcome }, upstreamLabels: { upstream, status_class: cls, outcome } };
      byOutcome.set(outcome, child);
      requestPending.push(child);
    }
    return child;
  };
  const durationChild = (route: string, upstream: string): DurationChild => {
    let byUpstream = durationChildren.get(route);
    if (byUpstream === undefined) {
      byUpstream = new Map();
      durationChildren.set(route, byUpstream);
    }
    let child = byUpstream.get(upstream);
    if (child === undefined) {
      child = duration.labels({ route, upstream });
      byUpstream.set(upstream, child);
    }
    return child;
  };
  const onEnd = (message: unknown): void => {
    const e = message as RequestEndEvent;
    const route = e.route ?? 'none';
    const upstream = e.upstream ?? 'none';
    requestsTotal++;
    requestChild(route, upstream, e.status, e.outcome).pending++;
    durationChild(route, upstream).observe(e.durationMs / 1000);
    // A hedge is a try but not a retry (it has its own family below).
    const retried = e.attempts - 1 - (e.hedged === true ? 1 : 0);
    if (retried > 0) retries.inc(retried);
    if (e.hedge != null) {
      if (e.hedged === true) hedges.inc({ upstream, result: 'sent' });
      hedges.inc({ upstream, result: e.hedge });
    }
    if (e.retryRefusal != null) retryDenied.inc({ reason: e.retryRefusal });
    if (e.shed != null) shed.inc({ reason: e.shed });
    if (e.rateLimitRule != null) rateLimited.inc({ rule: e.rateLimitRule, mode: e.rateLimitMode ?? 'enforce' });
  };
  subscribe(CHANNELS.requestEnd, onEnd);
  const requestSettled = (): void => {
    inflightNow--;
  };

  return {
    registry,
    trackInflight(work) {
      inflightNow++;
      const settled = work();
      settled.then(requestSettled, requestSettled);
      return settled;
    },
    counters: () => ({ requestsTotal, inflight: inflightNow }),
    watchResilience,
    applied(ref, seconds) {
      generation.reset();
      generation.set({ seq: String(ref.seq), digest: ref.digest }, 1);
      activeGeneration.set(ref.seq);
      applies.inc({ result: 'ok' });
      applyDuration.observe({ result: 'ok' }, seconds);
    },
    rejected(seconds) {
      applies.inc({ result: 'rejected' });
      applyDuration.observe({ result: 'rejected' }, seconds);
    },
    close() {
      unsubscribe(CHANNELS.requestEnd, onEnd);
      closeEventFamilies();
    },
  };
}

/** 200 → "2xx"; anything outside 100..599 → "other". */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? (STATUS_CLASSES[Math.floor(status / 100) - 1] as string) : 'other';
}
