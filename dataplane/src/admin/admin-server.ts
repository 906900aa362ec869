/**
 * Read-only admin endpoints on their own node:http server (never on the traffic listeners):
 *
 * - GET /live        200 while the process runs.
 * - GET /ready       200 when a generation is served (by every worker), the data plane is not
 *                    draining and at least one backend is available (health, as every worker
 *                    sees it); else 503 with the reason in the body.
 * - GET /metrics     Prometheus text: the primary's registry and every worker's, aggregated
 *                    (bootstrap/fleet-view.ts).
 * - GET /generation  {serving: {scope, seq, digest, source} | null, candidate: {scope, seq, digest,
 *                    percent} | null (staged rollout: held beside serving), listeners:
 *                    [{address, port}], workers: [{slot, pid, seq}]} plus `reason` (why nothing is
 *                    served) when serving is null.
 *
 * The server lives in the supervisor primary (one address per host, surviving worker
 * restarts); worker facts are asked for per request over IPC, bounded.
 *
 * Anything else: 404; a method other than GET/HEAD: 405.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GenerationApplier, HeldCandidateInfo } from '../control/generation-applier.ts';
import type { ListenerInfo } from '../ingress/listener-manager.ts';

/** What the workers say right now (bootstrap/fleet-view.ts). */
export interface WorkersView {
  readonly listeners: readonly ListenerInfo[];
  /** Why the served generation cannot serve (every backend unhealthy in some worker), null when it can. */
  readonly healthUnreadyReason: string | null;
  /** Per worker: its served seq and the level it logs at (null when it did not answer in time). */
  readonly workers: readonly { readonly slot: number; readonly pid: number; readonly seq: number | null; readonly logLevel: string | null }[];
}

export interface AdminDeps {
  readonly applier: Pick<GenerationApplier, 'serving'>;
  /** The workers' facts, asked per /ready and /generation request. */
  readonly workers: () => Promise<WorkersView>;
  /** The Prometheus text of the whole data plane. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
  /** True once shutdown began: /ready answers 503 from then on. */
  readonly draining: () => boolean;
  /** Why nothing is served (disk cache missing, stale, corrupt…); only asked while serving is null. */
  readonly notServingReason?: () => string | null;
  /** The level the primary logs at now (`logLevel` in /generation). */
  readonly logLevel?: () => string;
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
      const why = await unreadyReason(deps);
      return send(res, why === null ? 200 : 503, 'text/plain', why === null ? 'ready\n' : `not ready: ${why}\n`);
    }
    case '/metrics': {
      const metrics = await deps.metrics();
      return send(res, 200, metrics.contentType, metrics.text);
    }
    case '/generation': {
      const serving = deps.applier.serving();
      const view = await deps.workers();
      const body = {
        serving: serving ? { scope: serving.ref.scope, seq: serving.ref.seq, digest: serving.ref.digest, source: serving.source } : null,
        ...(serving ? {} : { reason: deps.notServingReason?.() ?? 'no generation applied yet' }),
        candidate: candidateView(serving?.candidate ?? null),
        listeners: view.listeners,
        ...(deps.logLevel ? { logLevel: deps.logLevel() } : {}),
        workers: view.workers,
      };
      return send(res, 200, 'application/json', `${JSON.stringify(body)}\n`);
    }
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

function candidateView(held: HeldCandidateInfo | null) {
  return held === null ? null : { scope: held.ref.scope, seq: held.ref.seq, digest: held.ref.digest, percent: held.percent };
}

/** null when ready; otherwise the first reason it is not. */
async function unreadyReason(deps: AdminDeps): Promise<string | null> {
  if (deps.draining()) return 'draining';
  if (deps.applier.serving() === null) return `no generation served (${deps.notServingReason?.() ?? 'no generation applied yet'})`;
  return (await deps.workers()).healthUnreadyReason;
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
