/**
 * The config document as operators write it (YAML or JSON), in the Rust Spooky shape
 * (`version: 1`, `listen`, `upstream.<name>`), extended by Spooky's own keys.
 *
 * This is the *input* schema: optional fields may be absent. `normalizeConfig` turns a valid
 * input into the fully-defaulted `Config` (see types.ts) that both planes run and that is
 * canonicalized and digested. Every object is closed (`additionalProperties: false`): an
 * unknown key anywhere is an error, never silently ignored.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ForwardedHeadersSchema, TracingSchema, UPSTREAM_FORWARDING_KEYS } from './forwarding-schema.ts';
import { ObservabilitySchema } from './observability-schema.ts';
import { ListenerTlsSchema } from './listener-tls-schema.ts';
import { ResilienceSchema, TIMEOUT_KEYS, UpstreamResilienceSchema, UpstreamTimeoutsSchema } from './resilience-schema.ts';
import { UpstreamTlsOverrideSchema } from './upstream-tls-schema.ts';

const closed = { additionalProperties: false } as const;

/** Highest config schema version this build understands. Data planes declare a range. */
export const SCHEMA_VERSION = 1;

export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';


export const ListenerSchema = Type.Object(
  {
    protocol: Type.Optional(Type.Literal('http3', { description: 'Only http3 (QUIC); a TLS TCP listener for HTTP/1.1 and HTTP/2 opens on the same port.' })),
    address: Type.Optional(Type.String({ minLength: 1, description: 'Bind address. Default 0.0.0.0.' })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'UDP and TCP port. Default 9889.' })),
    tls: ListenerTlsSchema,
  },
  closed,
);

/**
 * One request attribute test: exactly one of exact / prefix / present / regex (semantic check).
 * Header names are case-insensitive; query and cookie names are case-sensitive.
 */
export const MatcherSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    exact: Type.Optional(Type.String({ maxLength: 4096 })),
    prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    present: Type.Optional(Type.Boolean({ description: 'true: must be present; false: must be absent.' })),
    regex: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Whole-value match, cost-bounded.' })),
  },
  closed,
);

const matchers = (what: string) => Type.Optional(Type.Array(MatcherSchema, { maxItems: 16, description: `All must match (${what}).` }));

export const RouteSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, description: 'Exact host or *.suffix wildcard (any subdomain depth, never the apex).' })),
    path_prefix: Type.Optional(Type.String({ pattern: '^/', description: 'Segment-boundary prefix. Default /.' })),
    method: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,20}$', description: 'HTTP method; any when absent.' })),
    headers: matchers('request headers'),
    query: matchers('query parameters'),
    cookies: matchers('cookies'),
  },
  closed,
);

export const LB_TYPES = ['round-robin', 'random', 'consistent-hash', 'least-connections', 'latency-aware', 'sticky-cid'] as const;

/** Where consistent-hash takes its key from. */
export const LB_KEY_PATTERN = '^(path|authority|method|peer_ip|bearer_token|sticky-cid|(header|cookie|query):[^\\s:]{1,256})$';

export const LoadBalancingSchema = Type.Object(
  {
    type: Type.Union(LB_TYPES.map((t) => Type.Literal(t)), { description: 'Balancing policy.' }),
    key: Type.Optional(Type.String({ pattern: LB_KEY_PATTERN, description: 'Request key for consistent-hash.' })),
  },
  closed,
);

export const HealthCheckSchema = Type.Object(
  {
    path: Type.Optional(Type.String({ pattern: '^/', description: 'Probe path. Default /health.' })),
    interval: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000, description: 'Probe interval, ms. Default 5000.' })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 600_000, description: 'Default 1000.' })),
    failure_threshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 3.' })),
    success_threshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 2.' })),
    cooldown_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Default 5000.' })),
  },
  closed,
);

export const TrafficSplitSchema = Type.Object(
  {
    upstream: Type.String({ pattern: NAME_PATTERN }),
    weight: Type.Integer({ minimum: 1, maximum: 10000 }),
  },
  closed,
);

export const MirrorSchema = Type.Object(
  {
    upstream: Type.String({ pattern: NAME_PATTERN }),
    percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Share of requests mirrored. Default 100.' })),
  },
  closed,
);

export const BackendSchema = Type.Object(
  {
    id: Type.String({ pattern: NAME_PATTERN, description: 'Unique within its upstream.' }),
    address: Type.String({
      minLength: 1,
      description: 'http://host:port (HTTP/1.1), https://host:port (HTTP/2), or host:port (= https).',
    }),
    weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'Default 100.' })),
    health_check: Type.Optional(HealthCheckSchema),
  },
  closed,
);

export const UpstreamSchema = Type.Object(
  {
    route: Type.Optional(RouteSchema),
    load_balancing: Type.Optional(LoadBalancingSchema),
    backends: Type.Array(BackendSchema, { minItems: 1, maxItems: 1000 }),
    traffic_split: Type.Optional(
      Type.Array(TrafficSplitSchema, { maxItems: 32, description: 'Requests matching this route go to these upstreams by weight; empty = to this one.' }),
    ),
    mirror: Type.Optional(MirrorSchema),
    resilience: Type.Optional(UpstreamResilienceSchema),
    timeouts: Type.Optional(UpstreamTimeoutsSchema),
    tls: Type.Optional(UpstreamTlsOverrideSchema),
    ...UPSTREAM_FORWARDING_KEYS,
  },
  closed,
);

export const UpstreamTlsSchema = Type.Object(
  {
    verify_certificates: Type.Optional(Type.Boolean({ description: 'Default true. Disabling it logs a warning.' })),
    ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM bundle of the CAs trusted for HTTPS backends (instead of the system roots).' })),
    ca_dir: Type.Optional(Type.String({ minLength: 1, description: 'Directory of PEM files (*.pem, *.crt) of trusted CAs, with ca_file if both are given.' })),
  },
  closed,
);

const ms = (description: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000, description }));
const count = (description: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description }));

export const PerformanceSchema = Type.Object(
  {
    ...TIMEOUT_KEYS,
    max_request_body_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 40, description: 'Default 64 MiB.' })),
    max_request_headers: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100.' })),
    max_request_header_bytes: Type.Optional(Type.Integer({ minimum: 256, maximum: 1_048_576, description: 'Default 65536.' })),
    tls_handshake_timeout_ms: ms('TCP accept to the end of the TLS handshake. Default 10000.'),
    client_header_timeout_ms: ms('Connection ready (or previous response done) to a complete request head. Default 10000.'),
    client_body_idle_timeout_ms: ms('Longest gap between request body bytes. Default 10000.'),
    client_idle_timeout_ms: ms('A client connection with no open stream is closed after this long. Default 60000.'),
    tunnel_idle_timeout_ms: ms('An established WebSocket (or CONNECT) tunnel with no byte in either direction for this long is closed on both sides. Default 60000.'),
    max_active_connections: count('Client connections open at once (TCP and QUIC). Default 10000.'),
    max_connections_per_ip: count('Client connections open at once from one address. Default 256.'),
    new_connections_per_sec: count('New client connections accepted per second (token bucket refill). Default 1000.'),
    new_connections_burst: count('New client connections accepted at once (token bucket size). Default 2000.'),
    global_inflight_limit: count('Requests in flight to backends at once, in total. Default 4096.'),
    per_upstream_inflight_limit: count('Requests in flight to one upstream. Default 1024.'),
    per_backend_inflight_limit: count('Requests in flight to one backend. Default 64.'),
    shutdown_drain_timeout_ms: ms('SIGTERM: in-flight requests finish up to this long. Default 5000.'),
    backend_dns_refresh_enabled: Type.Optional(Type.Boolean({ description: 'Re-resolve backend host names. Default false.' })),
    backend_dns_refresh_interval_ms: ms('Default 30000.'),
  },
  closed,
);

export const LogSchema = Type.Object(
  {
    level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)))),
  },
  closed,
);

/** Switches that restore the Rust Spooky's answers where ours deliberately differ. */
export const CompatSchema = Type.Object(
  {
    no_route_status: Type.Optional(Type.Union([Type.Literal(404), Type.Literal(502)], { description: 'Default 404 (Rust: 502).' })),
    upstream_timeout_status: Type.Optional(Type.Union([Type.Literal(504), Type.Literal(503)], { description: 'Default 504 (Rust: 503).' })),
  },
  closed,
);

export const ConfigInputSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Config schema version. Default 1.' })),
    listen: Type.Optional(ListenerSchema),
    listeners: Type.Optional(Type.Array(ListenerSchema, { maxItems: 64 })),
    upstream: Type.Record(Type.String({ pattern: NAME_PATTERN }), UpstreamSchema, { additionalProperties: false }),
    load_balancing: Type.Optional(LoadBalancingSchema),
    upstream_tls: Type.Optional(UpstreamTlsSchema),
    performance: Type.Optional(PerformanceSchema),
    log: Type.Optional(LogSchema),
    compat: Type.Optional(CompatSchema),
    resilience: Type.Optional(ResilienceSchema),
    forwarded_headers: Type.Optional(ForwardedHeadersSchema),
    tracing: Type.Optional(TracingSchema),
    observability: Type.Optional(ObservabilitySchema),
  },
  closed,
);

export type ConfigInput = Static<typeof ConfigInputSchema>;
