/**
 * Normalized resilience config (every default filled; see normalize-resilience.ts and the
 * README's configuration reference). Upstream names in lists and maps all exist.
 */

/** A retry condition: a transport failure before any response byte, or a response status. */
export type RetryCondition = 'connect_failure' | 'reset' | 'timeout' | number;

export interface CircuitBreakerPolicy {
  readonly enabled: boolean;
  readonly failure_threshold: number;
  readonly open_ms: number;
  readonly half_open_max_probes: number;
  /** ours: a 5xx response counts as a failure (default false: only transport failures / timeouts). */
  readonly count_5xx: boolean;
}

export interface RetryPolicy {
  /** Sorted: conditions first (alphabetical), then statuses ascending. */
  readonly retry_on: readonly RetryCondition[];
  /** Attempts per request including the first. */
  readonly max_attempts: number;
  readonly backoff_base_ms: number;
  readonly backoff_max_ms: number;
  readonly max_replay_body_bytes: number;
}

export interface RetryBudgetPolicy {
  readonly enabled: boolean;
  readonly ratio_percent: number;
  readonly per_route_ratio_percent: Readonly<Record<string, number>>;
}

export interface HedgingPolicy {
  readonly enabled: boolean;
  readonly delay_ms: number;
  /** Uppercased. */
  readonly safe_methods: readonly string[];
  /** Empty = every upstream. */
  readonly route_allowlist: readonly string[];
}

export interface AdaptiveAdmissionPolicy {
  readonly enabled: boolean;
  readonly min_limit: number;
  /** null = performance.global_inflight_limit. */
  readonly max_limit: number | null;
  readonly decrease_step: number;
  readonly increase_step: number;
  readonly high_latency_ms: number;
}

export interface RouteQueuePolicy {
  readonly default_cap: number;
  readonly global_cap: number;
  readonly shed_retry_after_seconds: number;
  /** ours: a waiter is shed with 503 `queue_timeout` after this long; null = only the request deadline bounds it. */
  readonly max_wait_ms: number | null;
  readonly caps: Readonly<Record<string, number>>;
}

export interface BrownoutPolicy {
  /** ours: false by default. */
  readonly enabled: boolean;
  readonly trigger_inflight_percent: number;
  readonly recover_inflight_percent: number;
  /** Never shed; empty = shed nothing (ours). */
  readonly core_routes: readonly string[];
}

export type RateLimitScope = 'route' | 'client' | 'tenant' | 'token';

export interface ScopedRateLimit {
  readonly name: string;
  readonly scope: RateLimitScope;
  readonly requests_per_sec: number;
  readonly burst: number;
  /**
   * Request key spec (source lowercased, header names lowercased): `path`, `authority`,
   * `method`, `cid`, `sticky-cid`, `peer_ip`, `client_ip`, `bearer_token`, `header:<n>`,
   * `cookie:<n>`, `query:<n>`. null: route → the upstream name, client → the client address,
   * token → the bearer token (tenant always has one).
   */
  readonly key: string | null;
  readonly route_allowlist: readonly string[];
  readonly idle_ttl_secs: number;
  /** ours: count "would limit", never refuse. */
  readonly shadow: boolean;
}

export interface ProtocolPolicy {
  readonly allow_0rtt: boolean;
  readonly enforce_authority_host_match: boolean;
  readonly allow_connect: boolean;
  /** Uppercased; empty = any method. */
  readonly allowed_methods: readonly string[];
  readonly denied_path_prefixes: readonly string[];
}

export interface Resilience {
  readonly circuit_breaker: CircuitBreakerPolicy;
  readonly retries: RetryPolicy;
  readonly retry_budget: RetryBudgetPolicy;
  readonly hedging: HedgingPolicy;
  readonly adaptive_admission: AdaptiveAdmissionPolicy;
  readonly route_queue: RouteQueuePolicy;
  readonly brownout: BrownoutPolicy;
  readonly scoped_rate_limits: readonly ScopedRateLimit[];
  readonly protocol: ProtocolPolicy;
}

/** The five ordered timeouts (ms): connect ≤ headers ≤ body idle ≤ body total ≤ request. */
export interface Timeouts {
  readonly upstream_connect_timeout_ms: number;
  readonly upstream_headers_timeout_ms: number;
  readonly upstream_body_idle_timeout_ms: number;
  /** null: the body is bounded by request_timeout_ms only. */
  readonly upstream_body_total_timeout_ms: number | null;
  readonly request_timeout_ms: number;
}

/**
 * `upstream.<name>.resilience`, merged key by key over the global blocks; a block is null
 * when the upstream does not give it (the global one applies: see `upstreamPolicy`).
 */
export interface UpstreamResilience {
  readonly circuit_breaker: CircuitBreakerPolicy | null;
  readonly retries: RetryPolicy | null;
  readonly retry_budget: { readonly enabled: boolean; readonly ratio_percent: number } | null;
  readonly hedging: { readonly enabled: boolean; readonly delay_ms: number; readonly safe_methods: readonly string[] } | null;
}

/** What applies to one upstream, every override resolved (`upstreamPolicy`). */
export interface UpstreamPolicy {
  readonly timeouts: Timeouts;
  readonly circuit_breaker: CircuitBreakerPolicy;
  readonly retries: RetryPolicy;
  readonly retry_budget: { readonly enabled: boolean; readonly ratio_percent: number };
  readonly hedging: { readonly enabled: boolean; readonly delay_ms: number; readonly safe_methods: readonly string[] };
}
