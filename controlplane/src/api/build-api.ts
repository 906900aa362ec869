/**
 * The REST API as a fastify instance, not listening: main.ts calls listen, tests call inject().
 * Hooks are installed before the route plugins so every route inherits them: the guard
 * (auth with failure throttling, scope, reason), Idempotency-Key handling of mutating routes, the request metrics,
 * and the one problem+json error mapper. With `deps.https` the server is an https.Server
 * (`app.server.setSecureContext` reloads its certificate).
 */
import { MAX_CONFIG_BYTES } from '@spooky/config';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { CpError } from '../errors.ts';
import type { ApiDeps } from './api-deps.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { installGuard } from './guard.ts';
import { installIdempotency } from './idempotency.ts';
import { installProblemHandlers } from './problem.ts';
import { activeRoutes } from './routes/active-routes.ts';
import { auditRoutes } from './routes/audit-routes.ts';
import { configRoutes } from './routes/config-routes.ts';
import { diffRoutes } from './routes/diff-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { fleetRoutes } from './routes/fleet-routes.ts';
import { generationRoutes } from './routes/generation-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { rolloutPolicyRoutes } from './routes/rollout-policy-routes.ts';
import { rolloutRoutes } from './routes/rollout-routes.ts';
import { scopeListRoutes } from './routes/scope-list-routes.ts';
import { whoamiRoutes } from './routes/whoami-routes.ts';
import { uiRoutes } from '../ui/ui-routes.ts';
import { strictValidatorCompiler } from './validators.ts';

export function buildApi(deps: ApiDeps): FastifyInstance {
  const transport = deps.https ? { https: deps.https } : {};
  // The https variant types its server as https.Server; routes and hooks do not depend on it.
  const app = (
    deps.logger
      ? Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: MAX_CONFIG_BYTES, ...transport })
      : Fastify({ logger: false, bodyLimit: MAX_CONFIG_BYTES, ...transport })
  ) as FastifyInstance;

  app.setValidatorCompiler(strictValidatorCompiler());
  installProblemHandlers(app, deps.onStoreCorruption);
  installGuard(app, deps.auth, { throttle: deps.authThrottle ?? new AuthThrottle(), metrics: deps.metrics });
  // After the guard (callers learn nothing before authenticating): a damaged store takes no writes.
  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.mutating) return;
    const health = deps.storeHealth();
    if (!health.ok) throw new CpError('store_unavailable', `writes are refused: ${health.reason}`);
  });
  installIdempotency(app, deps.idempotency, () => deps.clock.now());
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    deps.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.register(healthRoutes, deps);
  app.register(configRoutes, deps);
  app.register(generationRoutes, deps);
  app.register(diffRoutes, deps);
  app.register(activeRoutes, deps);
  app.register(rolloutPolicyRoutes, deps);
  app.register(rolloutRoutes, deps);
  app.register(fleetRoutes, deps);
  app.register(auditRoutes, deps);
  app.register(eventRoutes, deps);
  app.register(scopeListRoutes, deps);
  app.register(whoamiRoutes);
  // The operator console (static, public: it calls the routes above with the operator's token).
  app.register(uiRoutes);
  return app;
}
