/**
 * resolveRoute stage: looks the request up in the pinned generation's route index (host from
 * screenRequest, matching path, method) and sets ctx.route / ctx.upstream.
 * No match → 404 `no_route` (the runner applies `compat.noRouteStatus`).
 */
import { SpookyError } from '../errors.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import { matchingPath } from './match-path.ts';

export const resolveRoute: Stage = {
  name: 'resolveRoute',
  run(ctx: RequestContext): StageResult {
    const { generation, exchange } = ctx;
    ctx.matchPath = matchingPath(exchange.head.path);
    const route = generation.routes.lookup(ctx.host, ctx.matchPath, exchange.head.method.toUpperCase());
    if (route === null) throw new SpookyError('no_route');
    const upstream = generation.upstreams.get(route.upstream);
    if (upstream === undefined) throw new SpookyError('internal', `route names unknown upstream ${route.upstream}`);
    ctx.route = route;
    ctx.upstream = upstream;
    return CONTINUE;
  },
};
