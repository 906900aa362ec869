/** Unauthenticated probes: /healthz (process alive), /readyz (store open + migrated), /metrics. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps.ts';
import { problemOf, sendProblem } from '../problem.ts';

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!deps.ready()) return sendProblem(reply, problemOf('not_ready', 'store is not open'));
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
