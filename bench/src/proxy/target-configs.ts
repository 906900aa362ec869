/**
 * The configuration files the bench writes for the proxies under test. Both proxies get the
 * same job: one HTTP/3 listener on 127.0.0.1 (TLS with the bench's self-signed certificate),
 * every path forwarded to one Node origin, the origin's certificate trusted through a CA file
 * (verification stays on, as in production).
 */

export interface ProxySpec {
  readonly cert: string;
  readonly key: string;
  /**
   * `http://127.0.0.1:p` (HTTP/1.1 upstream) or `https://127.0.0.1:p` (HTTP/2 upstream, or
   * HTTP/1.1 over TLS when the origin's ALPN offers only `http/1.1`).
   */
  readonly upstream: string;
}

/**
 * Resilience variants for the feature-cost comparison: `default` writes no resilience section;
 * `bare` turns every optional feature off (one try, no budget, no breaker, no admission); `full`
 * configures every one of them so that none triggers on a healthy origin: retries with budget,
 * breaker, hedging allow-listed (delay far above any response time), adaptive admission,
 * brownout (thresholds out of reach), two scoped rate limits far above the offered rate, the
 * upstream's own timeouts and a body total bound; `queue-wait` is the default with
 * `route_queue.max_wait_ms: 50` (stalls.bench.ts `spooky-h1-qwait`: a burst shed while small).
 */
export type ResilienceVariant = 'default' | 'bare' | 'full' | 'queue-wait';

const RESILIENCE_YAML: Readonly<Record<ResilienceVariant, readonly string[]>> = {
  default: [],
  'queue-wait': ['resilience:', '  route_queue: { max_wait_ms: 50 }'],
  bare: [
    'resilience:',
    '  retries: { max_attempts: 1 }',
    '  retry_budget: { enabled: false }',
    '  circuit_breaker: { enabled: false }',
    '  adaptive_admission: { enabled: false }',
    '  hedging: { enabled: false }',
    '  brownout: { enabled: false }',
  ],
  full: [
    'resilience:',
    '  retries: { max_attempts: 3, retry_on: [connect_failure, reset, timeout, 502, 503, 504] }',
    '  retry_budget: { enabled: true, ratio_percent: 20 }',
    '  circuit_breaker: { enabled: true, failure_threshold: 5, count_5xx: true }',
    '  adaptive_admission: { enabled: true, min_limit: 64, high_latency_ms: 2000 }',
    '  hedging: { enabled: true, delay_ms: 5000, route_allowlist: [origin] }',
    '  brownout: { enabled: true, trigger_inflight_percent: 99, recover_inflight_percent: 50, core_routes: [origin] }',
    '  scoped_rate_limits:',
    '    - { name: per-client, scope: client, requests_per_sec: 1000000, burst: 1000000 }',
    '    - { name: per-route, scope: route, requests_per_sec: 1000000, burst: 1000000 }',
  ],
};

/**
 * Spooky standalone YAML: defaults everywhere (access log on, info level, default limits),
 * unless a resilience variant is asked for.
 */
export function spookyYaml(spec: ProxySpec & { readonly port: number; readonly resilience?: ResilienceVariant }): string {
  const variant = spec.resilience ?? 'default';
  const upstreamExtra =
    variant === 'full' ? ['    timeouts: { upstream_headers_timeout_ms: 20000, upstream_body_total_timeout_ms: 60000, request_timeout_ms: 120000 }'] : [];
  return [
    '# Written by bench/src/proxy.bench.ts',
    'version: 1',
    'listen:',
    '  protocol: http3',
    '  address: 127.0.0.1',
    `  port: ${spec.port}`,
    '  tls:',
    `    cert: ${JSON.stringify(spec.cert)}`,
    `    key: ${JSON.stringify(spec.key)}`,
    'upstream:',
    '  origin:',
    '    route:',
    '      path_prefix: /',
    ...upstreamExtra,
    '    backends:',
    '      - id: origin-1',
    `        address: ${spec.upstream}`,
    'upstream_tls:',
    `  ca_file: ${JSON.stringify(spec.cert)}`,
    ...RESILIENCE_YAML[variant],
    '',
  ].join('\n');
}

/**
 * Caddy's native JSON (2.6): admin endpoint off, no access log (Caddy writes none unless a
 * server has `logs`), runtime log (INFO: startup and shutdown lines only) to stderr, automatic HTTPS off (the certificate is
 * loaded from the bench's files), protocols h1+h2+h3 on `127.0.0.1:port` (TCP and UDP), one
 * `reverse_proxy` route. The HTTP/2 upstream is pinned to h2 (`versions: ["2"]`) and the
 * HTTP/1.1 one to 1.1, so each row measures the upstream protocol it names; `h1OverTls` pins an
 * `https://` upstream to HTTP/1.1 (the "H1 over TLS" row).
 */
export function caddyJson(spec: ProxySpec & { readonly port: number; readonly storageDir: string; readonly h1OverTls?: boolean }): string {
  const url = new URL(spec.upstream);
  const tls = url.protocol === 'https:';
  const transport: Record<string, unknown> = tls
    ? { protocol: 'http', versions: [spec.h1OverTls ? '1.1' : '2'], tls: { root_ca_pem_files: [spec.cert], server_name: 'localhost' } }
    : { protocol: 'http', versions: ['1.1'] };
  const config = {
    admin: { disabled: true, config: { persist: false } },
    logging: { logs: { default: { level: 'INFO' } } },
    storage: { module: 'file_system', root: spec.storageDir },
    apps: {
      http: {
        servers: {
          bench: {
            listen: [`127.0.0.1:${spec.port}`],
            protocols: ['h1', 'h2', 'h3'],
            automatic_https: { disable: true },
            tls_connection_policies: [{}],
            routes: [{ handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: url.host }], transport }] }],
          },
        },
      },
      tls: { certificates: { load_files: [{ certificate: spec.cert, key: spec.key }] } },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
