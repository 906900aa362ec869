/**
 * The closed vocabulary of resilience decisions: each value becomes a `spooky-reason` header
 * of a local reply (sheds, rate limits), an access-log field and a metric label. Nothing else
 * may be emitted under these labels.
 *
 * Metric families labelled with these values (registered in observability/metrics.ts):
 *   spooky_retries_total                  counter: retries sent
 *   spooky_retry_denied_total{reason}     counter: retries refused (`reason` ∈ RETRY_REFUSALS)
 *   spooky_hedges_total{upstream,result}  counter: hedges sent and their results (HEDGE_RESULTS, hedge-results.ts)
 *   spooky_breaker_state{upstream,backend} gauge: BREAKER_STATE_VALUE (0 closed, 1 open, 2 half-open)
 *   spooky_overload_shed_by_reason_total{reason} counter: requests shed with 503 (`reason` ∈ SHED_REASONS)
 *   spooky_request_rate_limited{rule,mode}   counter: refusals per rule (`mode` enforce | shadow)
 *   spooky_inflight_permits{scope,upstream} gauge: permits held, `scope` global | upstream
 *   spooky_admission_limit                gauge: the adaptive concurrency limit
 *   spooky_brownout_active                gauge: 0 / 1
 */

/** Why decideRetry refused a retry. */
export const RETRY_REFUSALS = [
  'budget',
  'body_not_replayable',
  'no_alternate',
  'not_idempotent',
  'deadline',
  'max_attempts',
  'not_retryable',
  'client_aborted',
] as const;
export type RetryRefusal = (typeof RETRY_REFUSALS)[number];

/** Why a request was shed (503 + Retry-After); each is also its `spooky-reason`. */
export const SHED_REASONS = [
  'inflight_global',
  'inflight_upstream',
  'inflight_backend',
  'queue_full',
  'queue_timeout',
  'admission_limit',
  'brownout',
  'circuit_open',
] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/** The `spooky-reason` of a 429 from a scoped rate limit (the rule name goes in the metric label). */
export const RATE_LIMITED_REASON = 'rate_limited' as const;

/** Every reason code above, for the metrics registration and the README. */
export const RESILIENCE_REASONS = { retry: RETRY_REFUSALS, shed: SHED_REASONS, rateLimited: [RATE_LIMITED_REASON] } as const;
