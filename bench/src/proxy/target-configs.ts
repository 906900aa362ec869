/**
 * The configuration files the bench writes for the proxies under test. Both proxies get the
 * same job: one HTTP/3 listener on 127.0.0.1 (TLS with the bench's self-signed certificate),
 * every path forwarded to one Node origin, the origin's certificate trusted through a CA file
 * (verification stays on, as in production).
 */

export interface ProxySpec {
  readonly cert: string;
  readonly key: string;
  /** `http://127.0.0.1:p` (HTTP/1.1 upstream) or `https://127.0.0.1:p` (HTTP/2 upstream). */
  readonly upstream: string;
}

/**
 * Spooky standalone YAML: defaults everywhere (access log on, info level, default limits).
 */
export function spookyYaml(spec: ProxySpec & { readonly port: number }): string {
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
    '    backends:',
    '      - id: origin-1',
    `        address: ${spec.upstream}`,
    'upstream_tls:',
    `  ca_file: ${JSON.stringify(spec.cert)}`,
    '',
  ].join('\n');
}

/**
 * Caddy's native JSON (2.6): admin endpoint off, no access log (Caddy writes none unless a
 * server has `logs`), runtime log (INFO: startup and shutdown lines only) to stderr, automatic HTTPS off (the certificate is
 * loaded from the bench's files), protocols h1+h2+h3 on `127.0.0.1:port` (TCP and UDP), one
 * `reverse_proxy` route. The HTTP/2 upstream is pinned to h2 (`versions: ["2"]`) and the
 * HTTP/1.1 one to 1.1, so each row measures the upstream protocol it names.
 */
export function caddyJson(spec: ProxySpec & { readonly port: number; readonly storageDir: string }): string {
  const url = new URL(spec.upstream);
  const h2 = url.protocol === 'https:';
  const transport: Record<string, unknown> = h2
    ? { protocol: 'http', versions: ['2'], tls: { root_ca_pem_files: [spec.cert], server_name: 'localhost' } }
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
