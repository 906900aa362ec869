/**
 * The normalized config: every default filled, one listener list, backend addresses in one
 * URL form. This is what both planes run, what `canonicalJson` serializes and `digest` hashes.
 * Produced only by `parseConfig`; treat it as immutable.
 */
import type { ForwardedHeaders, HostPolicy, Tracing } from './forwarding-types.ts';
import type { ListenerTls } from './listener-tls-types.ts';
import type { Observability } from './observability-types.ts';
import type { Resilience, Timeouts, UpstreamResilience } from './resilience-types.ts';
import type { UpstreamTlsOverride } from './upstream-tls-schema.ts';

export type * from './forwarding-types.ts';
export type * from './listener-tls-types.ts';
export type * from './observability-types.ts';
export type * from './resilience-types.ts';

export type LbType = 'round-robin' | 'random' | 'consistent-hash' | 'least-connections' | 'latency-aware' | 'sticky-cid';

/** A certificate and its key (file paths); the default identity of a listener's TLS block. */
export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
}

export interface Listener {
  readonly protocol: 'http3';
  readonly address: string;
  readonly port: number;
  readonly tls: ListenerTls;
}

/** A request attribute test; exactly one of exact / prefix / present / regex is set. */
export interface Matcher {
  /** Header names lowercased; query and cookie names as written. */
  readonly name: string;
  readonly exact?: string;
  readonly prefix?: string;
  readonly present?: boolean;
  /** Anchored whole-value match; passed the cost bound (regex-cost.ts). */
  readonly regex?: string;
}

export interface Route {
  /** Lowercased exact host or `*.suffix`; null = any host. */
  readonly host: string | null;
  readonly path_prefix: string;
  /** Uppercased method; null = any method. */
  readonly method: string | null;
  /** All must match; empty = unconstrained. */
  readonly headers: readonly Matcher[];
  readonly query: readonly Matcher[];
  readonly cookies: readonly Matcher[];
}

export interface HealthCheck {
  readonly path: string;
  readonly interval: number;
  readonly timeout_ms: number;
  readonly failure_threshold: number;
  readonly success_threshold: number;
  readonly cooldown_ms: number;
}

export interface TrafficSplit {
  readonly upstream: string;
  readonly weight: number;
}

export interface Mirror {
  readonly upstream: string;
  readonly percent: number;
}

export interface LoadBalancing {
  readonly type: LbType;
  readonly key: string | null;
}

export interface Backend {
  readonly id: string;
  /** `http://host:port` or `https://host:port`, explicit port, no path. */
  readonly address: string;
  readonly weight: number;
  /** Active probing; null = passive ejection only. */
  readonly health_check: HealthCheck | null;
}

export interface Upstream {
  /** null: not routable by itself, only a target of another upstream's traffic_split/mirror. */
  readonly route: Route | null;
  readonly load_balancing: LoadBalancing;
  readonly backends: readonly Backend[];
  /** Empty = all matching traffic goes to this upstream's own backends. */
  readonly traffic_split: readonly TrafficSplit[];
  readonly mirror: Mirror | null;
  /** Per-upstream overrides of the global `resilience` blocks; null = none given. */
  readonly resilience: UpstreamResilience | null;
  /** Per-upstream timeouts (all five resolved, ordered); null = `performance`'s apply. */
  readonly timeouts: Timeouts | null;
  /** `upstream.<name>.tls` overrides of `upstream_tls` (upstream-tls.ts); null = none given. */
  readonly tls: UpstreamTlsOverride | null;
  /** Host sent upstream (default pass_through); `host_rewrite` is set exactly when it is rewrite. */
  readonly host_policy: HostPolicy;
  readonly host_rewrite: string | null;
  /** Its own forwarded_headers merged over the global block; null = the global block applies. */
  readonly forwarded_headers: ForwardedHeaders | null;
}

export interface UpstreamTls {
  readonly verify_certificates: boolean;
  readonly ca_file: string | null;
  /** Directory of PEM files (*.pem, *.crt); null = none. */
  readonly ca_dir: string | null;
}

/** Timeouts in our spelling only: the Rust `backend_*` aliases are folded in by normalization. */
export interface Performance extends Timeouts {
  readonly max_request_body_bytes: number;
  readonly max_request_headers: number;
  readonly max_request_header_bytes: number;
  readonly tls_handshake_timeout_ms: number;
  readonly client_header_timeout_ms: number;
  readonly client_body_idle_timeout_ms: number;
  readonly client_idle_timeout_ms: number;
  /** WebSocket / CONNECT tunnel: no byte either way for this long closes both sides. */
  readonly tunnel_idle_timeout_ms: number;
  readonly max_active_connections: number;
  readonly max_connections_per_ip: number;
  readonly new_connections_per_sec: number;
  readonly new_connections_burst: number;
  readonly global_inflight_limit: number;
  readonly per_upstream_inflight_limit: number;
  readonly per_backend_inflight_limit: number;
  readonly shutdown_drain_timeout_ms: number;
  readonly backend_dns_refresh_enabled: boolean;
  readonly backend_dns_refresh_interval_ms: number;
}

export interface Config {
  readonly version: number;
  readonly listeners: readonly Listener[];
  readonly upstream: Readonly<Record<string, Upstream>>;
  readonly load_balancing: LoadBalancing;
  readonly upstream_tls: UpstreamTls;
  readonly performance: Performance;
  readonly log: { readonly level: string };
  /** Rust Spooky compatibility: which status a local reply uses where ours differs. */
  readonly compat: { readonly no_route_status: 404 | 502; readonly upstream_timeout_status: 504 | 503 };
  readonly resilience: Resilience;
  /** Default forwarding header policy of every upstream without its own block. */
  readonly forwarded_headers: ForwardedHeaders;
  readonly tracing: Tracing;
  /** Span export (OTLP); propagation is `tracing`. */
  readonly observability: Observability;
}

/** One problem with a config document. `pointer` is a JSON Pointer (RFC 6901) into the input. */
export interface ConfigIssue {
  readonly pointer: string;
  /** Stable dotted code, e.g. `route.duplicate`, `schema.unknown_key`. */
  readonly code: string;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };
