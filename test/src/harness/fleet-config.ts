/**
 * Scope configs for the fleet suites: one TLS listener on 127.0.0.1:<port> (the same in every
 * node's namespace) and one upstream per route, each with a single HTTP/1.1 backend. Routes
 * use distinct upstream names and backend ids, so a candidate's failing backend never shares
 * health or breaker state (kept across generations by upstream + backend) with a good one.
 */
import type { Pem } from './pki.ts';

export interface FleetRoute {
  /** Upstream name, `[a-z0-9_-]`. */
  readonly name: string;
  readonly pathPrefix: string;
  /** `http://127.0.0.1:PORT` (a port the fleet bridges, see FleetOptions.hostPorts). */
  readonly backend: string;
}

export function fleetConfig(port: number, cert: Pem, routes: readonly FleetRoute[]): Record<string, unknown> {
  return {
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: cert.key } },
    upstream: Object.fromEntries(
      routes.map((r) => [r.name, { route: { path_prefix: r.pathPrefix }, backends: [{ id: `${r.name}-1`, address: r.backend }] }]),
    ),
  };
}
