/**
 * Normalization of `resilience` and of the per-upstream `resilience` / `timeouts` blocks:
 * schema-valid input → fully defaulted policies. Pure. Defaults are DATAPLANE.md's (the Rust
 * Spooky's, except brownout: off) and are listed in the README's configuration reference.
 * Per-upstream blocks merge key by key over the global block; the result is complete, so the
 * canonical form re-parses to the same config.
 */
import type { ConfigInput } from './schema.ts';
import { givenTimeouts, resolveTimeouts } from './timeouts.ts';
import type {
  CircuitBreakerPolicy,
  HedgingPolicy,
  Resilience,
  RetryCondition,
  RetryPolicy,
  ScopedRateLimit,
  Timeouts,
  UpstreamResilience,
} from './types.ts';

export const RESILIENCE_DEFAULTS = {
  circuit_breaker: { enabled: true, failure_threshold: 3, open_ms: 30_000, half_open_max_probes: 1, count_5xx: false },
  retries: {
    retry_on: ['connect_failure', 'reset', 'timeout', 502, 503] as readonly RetryCondition[],
    max_attempts: 2,
    backoff_base_ms: 25,
    backoff_max_ms: 250,
    max_replay_body_bytes: 65_536,
  },
  retry_budget: { enabled: true, ratio_percent: 10 },
  hedging: { enabled: false, delay_ms: 100, safe_methods: ['GET', 'HEAD'] as readonly string[] },
  adaptive_admission: { enabled: true, min_limit: 64, max_limit: null, decrease_step: 16, increase_step: 16, high_latency_ms: 500 },
  route_queue: { default_cap: 512, global_cap: 2048, shed_retry_after_seconds: 1, max_wait_ms: null },
  brownout: { enabled: false, trigger_inflight_percent: 90, recover_inflight_percent: 60 },
  rate_limit_idle_ttl_secs: 300,
  protocol: { allow_0rtt: false, enforce_authority_host_match: true, allow_connect: false },
} as const;

type ResilienceInput = NonNullable<ConfigInput['resilience']>;
type UpstreamInput = ConfigInput['upstream'][string];
type BreakerInput = NonNullable<ResilienceInput['circuit_breaker']>;
type RetriesInput = NonNullable<ResilienceInput['retries']>;
type RateLimitInput = NonNullable<ResilienceInput['scoped_rate_limits']>[number];

const upper = (list: readonly string[]) => [...new Set(list.map((m) => m.toUpperCase()))];
const sortedRecord = (r: Readonly<Record<string, number>> | undefined) => Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Conditions alphabetically, then statuses ascending: the same set is the same canonical bytes. */
function sortRetryOn(list: readonly RetryCondition[]): RetryCondition[] {
  const words = list.filter((c) => typeof c === 'string').sort();
  const statuses = list.filter((c) => typeof c === 'number').sort((a, b) => a - b);
  return [...new Set<RetryCondition>([...words, ...statuses])];
}

function breaker(input: BreakerInput | undefined, base: CircuitBreakerPolicy): CircuitBreakerPolicy {
  return {
    enabled: input?.enabled ?? base.enabled,
    failure_threshold: input?.failure_threshold ?? base.failure_threshold,
    open_ms: input?.open_ms ?? base.open_ms,
    half_open_max_probes: input?.half_open_max_probes ?? base.half_open_max_probes,
    count_5xx: input?.count_5xx ?? base.count_5xx,
  };
}

function retries(input: RetriesInput | undefined, base: RetryPolicy): RetryPolicy {
  return {
    retry_on: sortRetryOn(input?.retry_on ?? base.retry_on),
    max_attempts: input?.max_attempts ?? base.max_attempts,
    backoff_base_ms: input?.backoff_base_ms ?? base.backoff_base_ms,
    backoff_max_ms: input?.backoff_max_ms ?? base.backoff_max_ms,
    max_replay_body_bytes: input?.max_replay_body_bytes ?? base.max_replay_body_bytes,
  };
}

function rateLimit(r: RateLimitInput): ScopedRateLimit {
  return {
    name: r.name,
    scope: r.scope,
    requests_per_sec: r.requests_per_sec,
    burst: r.burst,
    key: r.key === undefined || r.key === null ? null : normalizeKeySpec(r.key),
    route_allowlist: [...new Set(r.route_allowlist ?? [])].sort(),
    idle_ttl_secs: r.idle_ttl_secs ?? RESILIENCE_DEFAULTS.rate_limit_idle_ttl_secs,
    shadow: r.shadow ?? false,
  };
}

/** `Header:X-Tenant` → `header:x-tenant`; cookie and query names keep their case. Invalid specs pass through (checked later). */
export function normalizeKeySpec(spec: string): string {
  const s = spec.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return s.toLowerCase();
  const source = s.slice(0, colon).trim().toLowerCase();
  const name = s.slice(colon + 1).trim();
  return `${source}:${source === 'header' ? name.toLowerCase() : name}`;
}

export function normalizeResilience(input: ResilienceInput | undefined): Resilience {
  const d = RESILIENCE_DEFAULTS;
  const h = input?.hedging;
  const aa = input?.adaptive_admission;
  const rq = input?.route_queue;
  const bo = input?.brownout;
  const p = input?.protocol;
  const hedging: HedgingPolicy = {
    enabled: h?.enabled ?? d.hedging.enabled,
    delay_ms: h?.delay_ms ?? d.hedging.delay_ms,
    safe_methods: upper(h?.safe_methods ?? d.hedging.safe_methods),
    route_allowlist: [...new Set(h?.route_allowlist ?? [])].sort(),
  };
  return {
    circuit_breaker: breaker(input?.circuit_breaker, d.circuit_breaker),
    retries: retries(input?.retries, d.retries),
    retry_budget: {
      enabled: input?.retry_budget?.enabled ?? d.retry_budget.enabled,
      ratio_percent: input?.retry_budget?.ratio_percent ?? d.retry_budget.ratio_percent,
      per_route_ratio_percent: sortedRecord(input?.retry_budget?.per_route_ratio_percent),
    },
    hedging,
    adaptive_admission: {
      enabled: aa?.enabled ?? d.adaptive_admission.enabled,
      min_limit: aa?.min_limit ?? d.adaptive_admission.min_limit,
      max_limit: aa?.max_limit ?? d.adaptive_admission.max_limit,
      decrease_step: aa?.decrease_step ?? d.adaptive_admission.decrease_step,
      increase_step: aa?.increase_step ?? d.adaptive_admission.increase_step,
      high_latency_ms: aa?.high_latency_ms ?? d.adaptive_admission.high_latency_ms,
    },
    route_queue: {
      default_cap: rq?.default_cap ?? d.route_queue.default_cap,
      global_cap: rq?.global_cap ?? d.route_queue.global_cap,
      shed_retry_after_seconds: rq?.shed_retry_after_seconds ?? d.route_queue.shed_retry_after_seconds,
      max_wait_ms: rq?.max_wait_ms ?? d.route_queue.max_wait_ms,
      caps: sortedRecord(rq?.caps),
    },
    brownout: {
      enabled: bo?.enabled ?? d.brownout.enabled,
      trigger_inflight_percent: bo?.trigger_inflight_percent ?? d.brownout.trigger_inflight_percent,
      recover_inflight_percent: bo?.recover_inflight_percent ?? d.brownout.recover_inflight_percent,
      core_routes: [...new Set(bo?.core_routes ?? [])].sort(),
    },
    // Rule order is kept: it is the order rules are applied (and the first refusing one is reported).
    scoped_rate_limits: (input?.scoped_rate_limits ?? []).map(rateLimit),
    protocol: {
      allow_0rtt: p?.allow_0rtt ?? d.protocol.allow_0rtt,
      enforce_authority_host_match: p?.enforce_authority_host_match ?? d.protocol.enforce_authority_host_match,
      allow_connect: p?.allow_connect ?? d.protocol.allow_connect,
      allowed_methods: upper(p?.allowed_methods ?? []).sort(),
      denied_path_prefixes: [...new Set(p?.denied_path_prefixes ?? [])].sort(),
    },
  };
}

/** Hedging as it applies to upstream `name` when the upstream gives no hedging block. */
export function globalHedgingFor(global: HedgingPolicy, name: string): { enabled: boolean; delay_ms: number; safe_methods: readonly string[] } {
  const listed = global.route_allowlist.length === 0 || global.route_allowlist.includes(name);
  return { enabled: global.enabled && listed, delay_ms: global.delay_ms, safe_methods: global.safe_methods };
}

/** The retry budget ratio of upstream `name` when it gives no retry_budget block. */
export function globalRetryBudgetFor(global: Resilience['retry_budget'], name: string): { enabled: boolean; ratio_percent: number } {
  return { enabled: global.enabled, ratio_percent: global.per_route_ratio_percent[name] ?? global.ratio_percent };
}

export function normalizeUpstreamResilience(u: UpstreamInput, name: string, global: Resilience): UpstreamResilience | null {
  const r = u.resilience;
  if (r === undefined) return null;
  const hedgeBase = globalHedgingFor(global.hedging, name);
  const budgetBase = globalRetryBudgetFor(global.retry_budget, name);
  return {
    circuit_breaker: r.circuit_breaker ? breaker(r.circuit_breaker, global.circuit_breaker) : null,
    retries: r.retries ? retries(r.retries, global.retries) : null,
    retry_budget: r.retry_budget
      ? { enabled: r.retry_budget.enabled ?? budgetBase.enabled, ratio_percent: r.retry_budget.ratio_percent ?? budgetBase.ratio_percent }
      : null,
    hedging: r.hedging
      ? {
          enabled: r.hedging.enabled ?? hedgeBase.enabled,
          delay_ms: r.hedging.delay_ms ?? hedgeBase.delay_ms,
          safe_methods: r.hedging.safe_methods ? upper(r.hedging.safe_methods) : hedgeBase.safe_methods,
        }
      : null,
  };
}

/** `upstream.<name>.timeouts` over the global ones; null when the upstream gives none. */
export function normalizeUpstreamTimeouts(u: UpstreamInput, global: Timeouts): Timeouts | null {
  if (u.timeouts === undefined) return null;
  return resolveTimeouts(givenTimeouts(u.timeouts), pickTimeouts(global));
}

export function pickTimeouts(t: Timeouts): Timeouts {
  return {
    upstream_connect_timeout_ms: t.upstream_connect_timeout_ms,
    upstream_headers_timeout_ms: t.upstream_headers_timeout_ms,
    upstream_body_idle_timeout_ms: t.upstream_body_idle_timeout_ms,
    upstream_body_total_timeout_ms: t.upstream_body_total_timeout_ms,
    request_timeout_ms: t.request_timeout_ms,
  };
}
