/**
 * resolveRoute stage: looks the request up in the pinned generation's route index (host from
 * screenRequest, matching path, method, then header/query/cookie matchers on the narrowed
 * candidates) and sets
 *   ctx.route    — the matched route; `route.upstream` is its owner (metrics `upstream`/route);
 *   ctx.upstream — the target upstream whose backends serve the request: the route's own, or
 *                  the one traffic_split picks (smooth weighted round-robin, traffic-split.ts).
 * and moves the whole-request deadline to the target upstream's own request timeout, if any.
 * No match → 404 `no_route` (the runner applies `compat.noRouteStatus`).
 * With a `spooky:route` subscriber (debug level, route-trace.ts) it also publishes why.
 */
import { SpookyError } from '../errors.ts';
import { type RequestContext, useUpstreamDeadline } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import { matchingPath } from './match-path.ts';
import { RequestAttributes } from './request-attributes.ts';
import { routeTraceChannel } from './route-trace.ts';

export const resolveRoute: Stage = {
  name: 'resolveRoute',
  run(ctx: RequestContext): StageResult {
    const { generation, exchange } = ctx;
    const head = exchange.head;
    ctx.matchPath = matchingPath(head.path);
    const method = head.method.toUpperCase();
    const attrs = new RequestAttributes(head.headers, head.path);
    const route = generation.routes.lookup(ctx.host, ctx.matchPath, method, attrs);
    const target = route === null ? null : route.split === null ? route.upstream : route.split.pick();
    if (routeTraceChannel.hasSubscribers) {
      const decision = generation.routes.explain(ctx.host, ctx.matchPath, method, attrs);
      routeTraceChannel.publish({ requestId: ctx.requestId, host: ctx.host, path: ctx.matchPath, method, decision, target });
    }
    if (route === null || target === null) throw new SpookyError('no_route');
    const upstream = generation.upstreams.get(target);
    if (upstream === undefined) throw new SpookyError('internal', `route names unknown upstream ${target}`);
    ctx.route = route;
    ctx.upstream = upstream;
    useUpstreamDeadline(ctx, upstream);
    return CONTINUE;
  },
};
