/**
 * Read-only admin endpoints on their own node:http server (never on the traffic listeners):
 *
 * - GET /live        200 while the process runs.
 * - GET /ready       200 when a generation is served and the process is not draining; else 503.
 * - GET /metrics     Prometheus text of the process registry.
 * - GET /generation  {serving: {scope, seq, digest, source} | null, listeners: [{address, port}]}
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
      const ready = deps.applier.serving() !== null && !deps.draining();
      return send(res, ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : 'not ready\n');
    }
    case '/metrics':
      return send(res, 200, deps.registry.contentType, await deps.registry.metrics());
    case '/generation': {
      const serving = deps.applier.serving();
      const body = {
        serving: serving ? { scope: serving.ref.scope, seq: serving.ref.seq, digest: serving.ref.digest, source: serving.source } : null,
        listeners: deps.applier.listeners(),
      };
      return send(res, 200, 'application/json', `${JSON.stringify(body)}\n`);
    }
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
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
