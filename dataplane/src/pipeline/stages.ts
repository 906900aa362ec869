/**
 * THE ordered stage list: the request's life, written down once. Change it together with the
 * diagram in README.md. recordOutcome is not in the list: the runner runs it exactly once
 * after the list, whatever happened (see request-handler.ts).
 *
 * `createStages(deps)` is called once per request handler (per process): stages that need
 * long-lived state (retry budgets, in-flight gauges, rate-limit buckets) get it injected here
 * instead of reaching for module-level singletons; per-request cleanup goes through
 * `ctx.defer`.
 */
import { createRunAttempts } from '../attempts/run-attempts.ts';
import { mirrorRequest } from '../mirroring/mirror-request.ts';
import { resolveRoute } from '../routing/resolve-route.ts';
import { screenRequest } from '../screening/screen-request.ts';
import { streamResponse } from '../streaming/stream-response.ts';
import { createRunTunnel } from '../tunnel/run-tunnel.ts';
import { createAdmitRequest } from './admit-request.ts';
import type { Stage } from './stage.ts';
import type { StageDeps } from './stage-deps.ts';

export type { StageDeps } from './stage-deps.ts';

export function createStages(deps: StageDeps): readonly Stage[] {
  return [
    screenRequest, // 1: 400 / 413 / 431
    resolveRoute, // 2: 404 no_route
    createAdmitRequest(deps), // 3: 429 rate_limited, 503 brownout / inflight_global / queue_full / inflight_upstream / admission_limit (may wait in the route queue)
    mirrorRequest, // 3b: fire-and-forget copy to the route's mirror upstream (never replies)
    createRunAttempts(deps), // 4: pick → forward → retry: 502 / 503 / 504
    streamResponse, // 5: relay head, body, trailers (reset on failure after the head)
  ];
}

/**
 * The list a tunnel request (Exchange.tunnel: WebSocket upgrade, CONNECT) runs instead: the
 * same screening, routing and admission stage objects as `base` (createStages' list), then
 * runTunnel in place of runAttempts + streamResponse (no mirroring: a tunnel cannot be
 * copied). Tunnel-only behaviour in those stages: screening lets CONNECT through when
 * `resilience.protocol.allow_connect` is true (405 otherwise, and always on HTTP/2 and HTTP/3).
 */
export function createTunnelStages(deps: StageDeps, base: readonly Stage[]): readonly Stage[] {
  const shared = base.filter((s) => s.name === screenRequest.name || s.name === resolveRoute.name || s.name === 'admitRequest');
  if (shared.length !== 3) throw new Error('tunnel stages: screening, routing or admission missing from the base list');
  return [...shared, createRunTunnel(deps)];
}
