/**
 * The `spooky-route` decision trace: one debug log line per routed request saying which route
 * won and why (the routes that matched, best first, and the tie-break that separated the
 * winner from the runner-up).
 *
 * Cost when off: none beyond one `hasSubscribers` check. resolveRoute computes the
 * explanation (a slower second pass over the index) only while the `spooky:route` channel has
 * a subscriber, and `startRouteTrace` keeps one subscribed only while the logger is at debug
 * level (or more verbose), following level changes live (observability/level-gate.ts).
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { whileLevelEnabled } from '../observability/level-gate.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';
import type { RouteDecision } from './route-table.ts';

export interface RouteTraceEvent {
  readonly requestId: string;
  readonly host: string | null;
  /** The path routing matched on. */
  readonly path: string;
  readonly method: string;
  readonly decision: RouteDecision;
  /** The upstream serving the request after traffic_split; null without a route. */
  readonly target: string | null;
}

export const ROUTE_TRACE_CHANNEL = CHANNELS.route;
export const routeTraceChannel = channel(ROUTE_TRACE_CHANNEL);

/** Logs every RouteTraceEvent at debug while `logger` is at debug (live); returns the unsubscriber. */
export function startRouteTrace(logger: Logger): () => void {
  return whileLevelEnabled(logger, 'debug', () => subscribeRouteTrace(logger));
}

function subscribeRouteTrace(logger: Logger): () => void {
  const onEvent = (message: unknown) => {
    const e = message as RouteTraceEvent;
    const d = e.decision;
    logger.debug(
      {
        trace: 'spooky-route',
        requestId: e.requestId,
        host: e.host,
        path: e.path,
        method: e.method,
        route: d.winner?.upstream ?? null,
        target: e.target,
        rule: d.rule,
        narrowed: d.narrowed,
        candidates: d.candidates.map((c) => ({
          upstream: c.upstream,
          host: c.host,
          prefix: c.pathPrefix,
          method: c.method,
          constrained: c.constrained,
        })),
      },
      'spooky-route',
    );
  };
  subscribe(ROUTE_TRACE_CHANNEL, onEvent);
  return () => unsubscribe(ROUTE_TRACE_CHANNEL, onEvent);
}
