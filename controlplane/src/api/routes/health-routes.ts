/** Unauthenticated probes: /healthz (process alive), /readyz (store open, migrated, intact; else 503 + reason), /metrics. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.ts';
import { problemOf, sendProblem } from '../problem.ts';

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const health = deps.storeHealth();
    if (!health.ok) return sendProblem(reply, problemOf('not_ready', health.reason));
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
