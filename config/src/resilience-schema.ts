/**
 * Input schema of `resilience` (global) and `upstream.<name>.resilience` / `.timeouts`
 * (per upstream). The global blocks accept the Rust Spooky's keys unchanged
 * (DATAPLANE.md § Resilience config) plus ours (`retries`, `count_5xx`, `shadow`); every key
 * is optional and filled by normalize-resilience.ts. Rules a schema cannot say (names that
 * must exist, min ≤ max, recover < trigger, key specs) are in resilience-checks.ts.
 */
import { Type } from '@sinclair/typebox';
import { MAX_RATE_LIMIT_RULES, MAX_ROUTES } from './limits.ts';

const closed = { additionalProperties: false } as const;
const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const METHOD = '^[A-Za-z]{1,20}$';

const ms = (description: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description }));
const int = (minimum: number, maximum: number, description: string) => Type.Optional(Type.Integer({ minimum, maximum, description }));
const bool = (description: string) => Type.Optional(Type.Boolean({ description }));
const names = (description: string) => Type.Optional(Type.Array(Type.String({ pattern: NAME }), { maxItems: MAX_ROUTES, description }));
const methods = (description: string) => Type.Optional(Type.Array(Type.String({ pattern: METHOD }), { maxItems: 32, description }));
const perUpstream = (minimum: number, maximum: number, description: string) =>
  Type.Optional(Type.Record(Type.String({ pattern: NAME }), Type.Integer({ minimum, maximum }), { additionalProperties: false, description }));

/** What a retry may be tried on: transport failures before any response byte, or a status. */
export const RETRY_CONDITIONS = ['connect_failure', 'reset', 'timeout'] as const;

export const CircuitBreakerSchema = Type.Object(
  {
    enabled: bool('Default true.'),
    failure_threshold: int(1, 10_000, 'Consecutive failures that open the breaker. Default 3.'),
    open_ms: ms('How long an open breaker refuses before half-open. Default 30000.'),
    half_open_max_probes: int(1, 10_000, 'Concurrent trial requests while half-open. Default 1.'),
    count_5xx: bool('ours: a 5xx response counts as a failure. Default false.'),
  },
  closed,
);

export const RetriesSchema = Type.Object(
  {
    retry_on: Type.Optional(
      Type.Array(Type.Union([...RETRY_CONDITIONS.map((c) => Type.Literal(c)), Type.Integer({ minimum: 400, maximum: 599 })]), {
        maxItems: 64,
        uniqueItems: true,
        description: 'Default [connect_failure, reset, timeout, 502, 503].',
      }),
    ),
    max_attempts: int(1, 10, 'Attempts per request including the first (1 = no retry). Default 2.'),
    backoff_base_ms: int(0, 60_000, 'Default 25.'),
    backoff_max_ms: int(0, 600_000, 'Default 250.'),
    max_replay_body_bytes: int(0, 64 * 1024 * 1024, 'Request bodies up to this size are buffered for replay. Default 65536.'),
  },
  closed,
);

export const RetryBudgetSchema = Type.Object(
  {
    enabled: bool('Default true.'),
    ratio_percent: int(0, 100, 'Retries allowed per 100 primary requests. Default 10.'),
    per_route_ratio_percent: perUpstream(0, 100, 'ratio_percent for named upstreams.'),
  },
  closed,
);

export const HedgingSchema = Type.Object(
  {
    enabled: bool('Default false.'),
    delay_ms: ms('Wait for a response head this long before hedging. Default 100.'),
    safe_methods: methods('Default [GET, HEAD].'),
    route_allowlist: names('Upstreams hedged; empty = all. Default [].'),
  },
  closed,
);

export const AdaptiveAdmissionSchema = Type.Object(
  {
    enabled: bool('Default true.'),
    min_limit: int(1, 10_000_000, 'Default 64.'),
    max_limit: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000_000 }), Type.Null()], { description: 'Default null (= global_inflight_limit).' })),
    decrease_step: int(1, 10_000_000, 'Default 16.'),
    increase_step: int(1, 10_000_000, 'Default 16.'),
    high_latency_ms: ms('Default 500.'),
  },
  closed,
);

export const RouteQueueSchema = Type.Object(
  {
    default_cap: int(0, 10_000_000, 'Waiting requests per upstream. Default 512.'),
    global_cap: int(0, 10_000_000, 'Waiting requests in total. Default 2048.'),
    shed_retry_after_seconds: int(0, 86_400, 'Retry-After of a shed request. Default 1.'),
    max_wait_ms: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 86_400_000 }), Type.Null()], {
        description: 'ours: longest wait in the queue, then 503 queue_timeout. Default null (= bounded only by the request deadline).',
      }),
    ),
    caps: perUpstream(0, 10_000_000, 'default_cap for named upstreams.'),
  },
  closed,
);

export const BrownoutSchema = Type.Object(
  {
    enabled: bool('ours: default false (Rust: true).'),
    trigger_inflight_percent: int(1, 100, 'Default 90.'),
    recover_inflight_percent: int(0, 99, 'Default 60.'),
    core_routes: names('Upstreams never shed. Default [].'),
  },
  closed,
);

export const RATE_LIMIT_SCOPES = ['route', 'client', 'tenant', 'token'] as const;

export const ScopedRateLimitSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME }),
    scope: Type.Union(RATE_LIMIT_SCOPES.map((s) => Type.Literal(s))),
    requests_per_sec: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    burst: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    key: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 300 }), Type.Null()])),
    route_allowlist: names('Upstreams the rule applies to; empty = all.'),
    idle_ttl_secs: int(1, 86_400 * 7, 'Default 300.'),
    shadow: bool('ours: count would-be refusals, never refuse. Default false.'),
  },
  closed,
);

export const ProtocolPolicySchema = Type.Object(
  {
    allow_0rtt: bool('Default false.'),
    max_headers_count: int(1, 1000, 'Rust alias of performance.max_request_headers.'),
    max_headers_bytes: int(256, 1_048_576, 'Rust alias of performance.max_request_header_bytes.'),
    enforce_authority_host_match: bool('Default true.'),
    allow_connect: bool('true: an HTTP/1.1 CONNECT host:port is tunnelled to a backend of the upstream its host routes to; false: 405. Default false.'),
    allowed_methods: methods('Empty = any. Default [].'),
    denied_path_prefixes: Type.Optional(Type.Array(Type.String({ pattern: '^/', maxLength: 4096 }), { maxItems: 1024 })),
  },
  closed,
);

export const ResilienceSchema = Type.Object(
  {
    circuit_breaker: Type.Optional(CircuitBreakerSchema),
    retries: Type.Optional(RetriesSchema),
    retry_budget: Type.Optional(RetryBudgetSchema),
    hedging: Type.Optional(HedgingSchema),
    adaptive_admission: Type.Optional(AdaptiveAdmissionSchema),
    route_queue: Type.Optional(RouteQueueSchema),
    brownout: Type.Optional(BrownoutSchema),
    scoped_rate_limits: Type.Optional(Type.Array(ScopedRateLimitSchema, { maxItems: MAX_RATE_LIMIT_RULES })),
    protocol: Type.Optional(ProtocolPolicySchema),
  },
  closed,
);

/** Per upstream: the blocks that make sense for one upstream; absent keys inherit the global block. */
export const UpstreamResilienceSchema = Type.Object(
  {
    circuit_breaker: Type.Optional(CircuitBreakerSchema),
    retries: Type.Optional(RetriesSchema),
    retry_budget: Type.Optional(Type.Object({ enabled: bool('Default: global.'), ratio_percent: int(0, 100, 'Default: global.') }, closed)),
    hedging: Type.Optional(Type.Object({ enabled: bool('Default: global enabled and allow-listed.'), delay_ms: ms('Default: global.'), safe_methods: methods('Default: global.') }, closed)),
  },
  closed,
);

/**
 * The five ordered timeouts, in our spelling and the Rust Spooky's (aliases: give one; both
 * only with equal values). Used by `performance` and by `upstream.<name>.timeouts`.
 */
export const TIMEOUT_KEYS = {
  upstream_connect_timeout_ms: ms('TCP+TLS connect to a backend. Default 3000.'),
  backend_connect_timeout_ms: ms('Rust alias of upstream_connect_timeout_ms.'),
  upstream_headers_timeout_ms: ms('From request sent to response head. Default 30000.'),
  backend_timeout_ms: ms('Rust alias of upstream_headers_timeout_ms.'),
  upstream_body_idle_timeout_ms: ms('Longest gap between response body chunks. Default 60000.'),
  backend_body_idle_timeout_ms: ms('Rust alias of upstream_body_idle_timeout_ms.'),
  upstream_body_total_timeout_ms: ms('Whole response body. Default: bounded by request_timeout_ms only.'),
  backend_body_total_timeout_ms: ms('Rust alias of upstream_body_total_timeout_ms.'),
  request_timeout_ms: ms('Whole request, accept to last byte. Default 300000.'),
  backend_total_request_timeout_ms: ms('Rust alias of request_timeout_ms.'),
};

export const UpstreamTimeoutsSchema = Type.Object(TIMEOUT_KEYS, closed);
