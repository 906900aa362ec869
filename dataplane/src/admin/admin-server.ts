/**
 * Read-only admin endpoints on their own node:http server (never on the traffic listeners):
 *
 * - GET /live        200 while the process runs.
 * - GET /ready       200 when a generation is served, the process is not draining and at least
 *                    one backend is available (health); else 503 with the reason in the body.
 * - GET /metrics     Prometheus text of the process registry.
 * - GET /generation  {serving: {scope, seq, digest, source} | null, listeners: [{address, port}]}
 *                    plus `reason` (why nothing is served) when serving is null.
 *
 * Anything else: 404; a method other than GET/HEAD: 405.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ServingApplier } from '../apply/serving-applier.ts';

export interface AdminDeps {
  readonly applier: Pick<ServingApplier, 'serving' | 'listeners'>;
  readonly registry: Registry;
  /** True once shutdown began: /ready answers 503 from then on. */
  readonly draining: () => boolean;
  /** Why nothing is served (disk cache missing, stale, corrupt…); only asked while serving is null. */
  readonly notServingReason?: () => string | null;
  /** Why the served generation cannot serve (every backend unhealthy), null when it can. */
  readonly healthUnreadyReason?: () => string | null;
}

export interface AdminServer {
  /** The bound address, e.g. http://127.0.0.1:9901. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(host: string, port: number, deps: AdminDeps): Promise<AdminServer> {
  const server = createServer((req, res) => {
    handle(req, res, deps).catch(() => send(res, 500, 'text/plain', 'internal error\n'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { url: `http://${shownHost}:${bound.port}`, close: () => closeServer(server) };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain', 'method not allowed\n');
  }
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/live':
      return send(res, 200, 'text/plain', 'live\n');
    case '/ready': {
      const why = unreadyReason(deps);
      return send(res, why === null ? 200 : 503, 'text/plain', why === null ? 'ready\n' : `not ready: ${why}\n`);
    }
    case '/metrics':
      return send(res, 200, deps.registry.contentType, await deps.registry.metrics());
    case '/generation': {
      const serving = deps.applier.serving();
      const body = {
        serving: serving ? { scope: serving.ref.scope, seq: serving.ref.seq, digest: serving.ref.digest, source: serving.source } : null,
        ...(serving ? {} : { reason: deps.notServingReason?.() ?? 'no generation applied yet' }),
        listeners: deps.applier.listeners(),
      };
      return send(res, 200, 'application/json', `${JSON.stringify(body)}\n`);
    }
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

/** null when ready; otherwise the first reason it is not. */
function unreadyReason(deps: AdminDeps): string | null {
  if (deps.draining()) return 'draining';
  if (deps.applier.serving() === null) return `no generation served (${deps.notServingReason?.() ?? 'no generation applied yet'})`;
  return deps.healthUnreadyReason?.() ?? null;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
