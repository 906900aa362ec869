/**
 * normalizeConfig: schema-valid input → the fully-defaulted `Config`. Pure; total over
 * schema-valid input (semantic problems such as a bad backend address are left for
 * semantic-checks.ts to report, the value passed through unchanged).
 */
import { parseBackendAddress } from './backend-address.ts';
import { normalizeForwardedHeaders, normalizeTracing } from './normalize-forwarding.ts';
import { normalizeObservability } from './normalize-observability.ts';
import { normalizeListenerTls } from './normalize-listener-tls.ts';
import { normalizeResilience, normalizeUpstreamResilience, normalizeUpstreamTimeouts } from './normalize-resilience.ts';
import type { ConfigInput } from './schema.ts';
import { aliased, givenTimeouts, resolveTimeouts } from './timeouts.ts';
import type { Backend, Config, ForwardedHeaders, HealthCheck, Listener, LoadBalancing, Matcher, Resilience, Route, Timeouts, Upstream } from './types.ts';
import { normalizeUpstreamTls } from './upstream-tls.ts';

/** Defaults, in one place; the README's configuration reference lists the same values. */
export const DEFAULTS = {
  listenerAddress: '0.0.0.0',
  listenerPort: 9889,
  backendWeight: 100,
  loadBalancing: 'round-robin',
  upstreamConnectTimeoutMs: 3_000,
  upstreamHeadersTimeoutMs: 30_000,
  upstreamBodyIdleTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  maxRequestBodyBytes: 64 * 1024 * 1024,
  maxRequestHeaders: 100,
  maxRequestHeaderBytes: 65_536,
  tlsHandshakeTimeoutMs: 10_000,
  clientHeaderTimeoutMs: 10_000,
  clientBodyIdleTimeoutMs: 10_000,
  clientIdleTimeoutMs: 60_000,
  tunnelIdleTimeoutMs: 60_000,
  maxActiveConnections: 10_000,
  maxConnectionsPerIp: 256,
  newConnectionsPerSec: 1_000,
  newConnectionsBurst: 2_000,
  logLevel: 'info',
  healthPath: '/health',
  healthIntervalMs: 5_000,
  healthTimeoutMs: 1_000,
  healthFailureThreshold: 3,
  healthSuccessThreshold: 2,
  healthCooldownMs: 5_000,
  mirrorPercent: 100,
  globalInflightLimit: 4_096,
  perUpstreamInflightLimit: 1_024,
  perBackendInflightLimit: 64,
  shutdownDrainTimeoutMs: 5_000,
  backendDnsRefreshIntervalMs: 30_000,
} as const;

const DEFAULT_TIMEOUTS: Timeouts = {
  upstream_connect_timeout_ms: DEFAULTS.upstreamConnectTimeoutMs,
  upstream_headers_timeout_ms: DEFAULTS.upstreamHeadersTimeoutMs,
  upstream_body_idle_timeout_ms: DEFAULTS.upstreamBodyIdleTimeoutMs,
  upstream_body_total_timeout_ms: null,
  request_timeout_ms: DEFAULTS.requestTimeoutMs,
};

type ListenerInput = NonNullable<ConfigInput['listen']>;
type UpstreamInput = ConfigInput['upstream'][string];
type LbInput = NonNullable<ConfigInput['load_balancing']>;

export function normalizeConfig(input: ConfigInput): Config {
  const listenerInputs = input.listeners ?? (input.listen ? [input.listen] : []);
  const globalLb = normalizeLb(input.load_balancing, null);
  const perf = input.performance ?? {};
  const protocol = input.resilience?.protocol;
  const timeouts = resolveTimeouts(givenTimeouts(perf), DEFAULT_TIMEOUTS);
  const resilience = normalizeResilience(input.resilience);
  const forwarded = normalizeForwardedHeaders(input.forwarded_headers, null);
  const upstream: Record<string, Upstream> = {};
  for (const name of Object.keys(input.upstream).sort()) {
    upstream[name] = normalizeUpstream(input.upstream[name] as UpstreamInput, name, globalLb, resilience, timeouts, forwarded);
  }
  return {
    version: input.version ?? 1,
    listeners: listenerInputs.map(normalizeListener),
    upstream,
    load_balancing: globalLb,
    upstream_tls: {
      verify_certificates: input.upstream_tls?.verify_certificates ?? true,
      ca_file: input.upstream_tls?.ca_file ?? null,
      ca_dir: input.upstream_tls?.ca_dir ?? null,
    },
    performance: {
      ...timeouts,
      max_request_body_bytes: perf.max_request_body_bytes ?? DEFAULTS.maxRequestBodyBytes,
      // resilience.protocol.max_headers_* are the Rust spellings (aliases) of these two.
      max_request_headers: aliasedAcross(perf.max_request_headers, protocol?.max_headers_count) ?? DEFAULTS.maxRequestHeaders,
      max_request_header_bytes: aliasedAcross(perf.max_request_header_bytes, protocol?.max_headers_bytes) ?? DEFAULTS.maxRequestHeaderBytes,
      tls_handshake_timeout_ms: perf.tls_handshake_timeout_ms ?? DEFAULTS.tlsHandshakeTimeoutMs,
      client_header_timeout_ms: perf.client_header_timeout_ms ?? DEFAULTS.clientHeaderTimeoutMs,
      client_body_idle_timeout_ms: perf.client_body_idle_timeout_ms ?? DEFAULTS.clientBodyIdleTimeoutMs,
      client_idle_timeout_ms: perf.client_idle_timeout_ms ?? DEFAULTS.clientIdleTimeoutMs,
      tunnel_idle_timeout_ms: perf.tunnel_idle_timeout_ms ?? DEFAULTS.tunnelIdleTimeoutMs,
      max_active_connections: perf.max_active_connections ?? DEFAULTS.maxActiveConnections,
      max_connections_per_ip: perf.max_connections_per_ip ?? DEFAULTS.maxConnectionsPerIp,
      new_connections_per_sec: perf.new_connections_per_sec ?? DEFAULTS.newConnectionsPerSec,
      new_connections_burst: perf.new_connections_burst ?? DEFAULTS.newConnectionsBurst,
      global_inflight_limit: perf.global_inflight_limit ?? DEFAULTS.globalInflightLimit,
      per_upstream_inflight_limit: perf.per_upstream_inflight_limit ?? DEFAULTS.perUpstreamInflightLimit,
      per_backend_inflight_limit: perf.per_backend_inflight_limit ?? DEFAULTS.perBackendInflightLimit,
      shutdown_drain_timeout_ms: perf.shutdown_drain_timeout_ms ?? DEFAULTS.shutdownDrainTimeoutMs,
      backend_dns_refresh_enabled: perf.backend_dns_refresh_enabled ?? false,
      backend_dns_refresh_interval_ms: perf.backend_dns_refresh_interval_ms ?? DEFAULTS.backendDnsRefreshIntervalMs,
    },
    log: { level: input.log?.level ?? DEFAULTS.logLevel },
    compat: {
      no_route_status: input.compat?.no_route_status ?? 404,
      upstream_timeout_status: input.compat?.upstream_timeout_status ?? 504,
    },
    resilience,
    forwarded_headers: forwarded,
    tracing: normalizeTracing(input.tracing),
    observability: normalizeObservability(input.observability),
  };
}

/** Ours when given, else the Rust alias (a conflict between them is a semantic issue). */
function aliasedAcross(ours: number | undefined, rust: number | undefined): number | undefined {
  return aliased({ ours, rust }, 'ours', 'rust');
}

function normalizeListener(l: ListenerInput): Listener {
  return {
    protocol: 'http3',
    address: l.address ?? DEFAULTS.listenerAddress,
    port: l.port ?? DEFAULTS.listenerPort,
    tls: normalizeListenerTls(l.tls),
  };
}

function normalizeLb(lb: LbInput | undefined, fallback: LoadBalancing | null): LoadBalancing {
  if (!lb) return fallback ?? { type: DEFAULTS.loadBalancing, key: null };
  return { type: lb.type, key: lb.key ?? null };
}

/** Lowercase, strip one trailing dot and IPv6 brackets: the same rule requests' hosts follow. */
export function normalizeRouteHost(host: string): string {
  let h = host.trim().toLowerCase();
  while (h.endsWith('.')) h = h.slice(0, -1);
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h;
}

/** `/api/` and `/api` are one prefix: matching is on segment boundaries either way. */
export function normalizePathPrefix(prefix: string): string {
  let p = prefix;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

type RouteInput = NonNullable<UpstreamInput['route']>;
type MatcherInput = NonNullable<RouteInput['headers']>[number];
type HealthInput = NonNullable<UpstreamInput['backends'][number]['health_check']>;

function normalizeMatcher(m: MatcherInput, lowerName: boolean): Matcher {
  return {
    name: lowerName ? m.name.toLowerCase() : m.name,
    ...(m.exact !== undefined ? { exact: m.exact } : {}),
    ...(m.prefix !== undefined ? { prefix: m.prefix } : {}),
    ...(m.present !== undefined ? { present: m.present } : {}),
    ...(m.regex !== undefined ? { regex: m.regex } : {}),
  };
}

function normalizeRoute(r: RouteInput): Route {
  return {
    host: r.host === undefined ? null : normalizeRouteHost(r.host),
    path_prefix: normalizePathPrefix(r.path_prefix ?? '/'),
    method: r.method === undefined ? null : r.method.toUpperCase(),
    headers: (r.headers ?? []).map((m) => normalizeMatcher(m, true)),
    query: (r.query ?? []).map((m) => normalizeMatcher(m, false)),
    cookies: (r.cookies ?? []).map((m) => normalizeMatcher(m, false)),
  };
}

function normalizeHealth(h: HealthInput | undefined): HealthCheck | null {
  if (!h) return null;
  return {
    path: h.path ?? DEFAULTS.healthPath,
    interval: h.interval ?? DEFAULTS.healthIntervalMs,
    timeout_ms: h.timeout_ms ?? DEFAULTS.healthTimeoutMs,
    failure_threshold: h.failure_threshold ?? DEFAULTS.healthFailureThreshold,
    success_threshold: h.success_threshold ?? DEFAULTS.healthSuccessThreshold,
    cooldown_ms: h.cooldown_ms ?? DEFAULTS.healthCooldownMs,
  };
}

function normalizeUpstream(u: UpstreamInput, name: string, globalLb: LoadBalancing, resilience: Resilience, timeouts: Timeouts, forwarded: ForwardedHeaders): Upstream {
  const backends: Backend[] = u.backends.map((b) => ({
    id: b.id,
    address: parseBackendAddress(b.address)?.url ?? b.address,
    weight: b.weight ?? DEFAULTS.backendWeight,
    health_check: normalizeHealth(b.health_check),
  }));
  return {
    route: u.route === undefined ? null : normalizeRoute(u.route),
    load_balancing: normalizeLb(u.load_balancing, globalLb),
    backends,
    traffic_split: (u.traffic_split ?? []).map((t) => ({ upstream: t.upstream, weight: t.weight })),
    mirror: u.mirror ? { upstream: u.mirror.upstream, percent: u.mirror.percent ?? DEFAULTS.mirrorPercent } : null,
    resilience: normalizeUpstreamResilience(u, name, resilience),
    timeouts: normalizeUpstreamTimeouts(u, timeouts),
    tls: normalizeUpstreamTls(u.tls),
    host_policy: u.host_policy ?? 'pass_through',
    host_rewrite: u.host_rewrite ?? null,
    forwarded_headers: u.forwarded_headers === undefined ? null : normalizeForwardedHeaders(u.forwarded_headers, forwarded),
  };
}
