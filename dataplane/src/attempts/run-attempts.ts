/**
 * runAttempts stage: the attempt loop. Each turn: pick a backend (balancer, excluding those
 * already tried) → forward through its transport → on a response head, that attempt wins
 * (ctx.winner / ctx.response) and the stage continues to streamResponse; on failure ask
 * `decideNextAttempt` whether to try again.
 *
 * Health (health/health-monitor.ts): ejected backends are left out of the candidates, and
 * every try's outcome (response status or error code) is reported for passive ejection.
 * This slice makes exactly one attempt (no retries, hedging or breakers yet); they slot in
 * here: the breaker check before forward, decideRetry in decideNextAttempt, hedges as extra
 * live attempts raced on their heads.
 */
import { SpookyError, toSpookyError } from '../errors.ts';
import { upstreamRequestHeaders } from '../forwarding/upstream-request-headers.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import type { Attempt } from './attempt.ts';
import { bodyIdleWatch } from './body-idle-watch.ts';

export interface NextAttemptFacts {
  readonly attempts: readonly Attempt[];
  readonly error: SpookyError;
  readonly clientAborted: boolean;
}

/** Retry decision point. Retries are not enabled yet: always stop. */
export function decideNextAttempt(facts: NextAttemptFacts): { readonly again: boolean; readonly reason: string } {
  if (facts.clientAborted) return { again: false, reason: 'client_aborted' };
  if (facts.error.retry === 'never') return { again: false, reason: 'not_retryable' };
  return { again: false, reason: 'disabled' };
}

export const runAttempts: Stage = {
  name: 'runAttempts',
  async run(ctx: RequestContext): Promise<StageResult> {
    const upstream = ctx.upstream;
    if (upstream === null) throw new SpookyError('internal', 'runAttempts without a route');
    const { exchange } = ctx;
    const headers = upstreamRequestHeaders({
      head: exchange.head,
      remoteAddress: exchange.remoteAddress,
      requestId: ctx.requestId,
    });
    const tried = new Set<number>();
    const maxBody = ctx.generation.config.performance.max_request_body_bytes;
    const bodyIdleMs = ctx.generation.config.performance.client_body_idle_timeout_ms;
    // Health filter: ejected backends (HealthMonitor, through the handles compile/ resolved)
    // are not candidates; none left → 503.
    const health = ctx.generation.health;
    const candidates = upstream.candidates.current();
    for (;;) {
      const backendIndex = upstream.balancer.pick(candidates, { exclude: tried.size === 0 ? null : tried, request: exchange });
      const backend = backendIndex === null ? undefined : upstream.backends[backendIndex];
      if (backendIndex === null || backend === undefined) throw new SpookyError('no_healthy_backends');
      tried.add(backendIndex);
      const attempt: Attempt = {
        index: ctx.attempts.length,
        backendIndex,
        backend,
        startedAt: performance.now(),
        controller: new AbortController(),
        headersAt: null,
        error: null,
        bodyWatch: null,
      };
      ctx.attempts.push(attempt);
      // The request's abort (client gone, deadline) reaches this try through its own
      // controller: one listener, no composite signal. Tries end with the request.
      if (ctx.signal.aborted) attempt.controller.abort(ctx.signal.reason);
      else ctx.signal.addEventListener('abort', () => attempt.controller.abort(ctx.signal.reason), { once: true });
      // A stalled upload fails this try: 408 before the head, a reset after it
      // (body-idle-watch.ts; no timer of its own). The runner stops it when the request ends.
      const bodyIdle = exchange.body === null ? null : bodyIdleWatch.watch(bodyIdleMs, () => {
        if (!attempt.controller.signal.aborted) attempt.controller.abort(new SpookyError('client_body_timeout', 'request body idle over client_body_idle_timeout_ms'));
      });
      attempt.bodyWatch = bodyIdle;
      try {
        const response = await backend.transport.forward({
          method: exchange.head.method,
          path: exchange.head.path,
          headers,
          body: exchange.body,
          signal: attempt.controller.signal,
          onBodyEnd: () => bodyIdle?.stop(),
          onBodyBytes: (n) => {
            bodyIdle?.touch();
            ctx.bytesIn += n;
            // A body without (or with a false) content-length is limited as it streams.
            if (ctx.bytesIn > maxBody && !attempt.controller.signal.aborted) {
              attempt.controller.abort(new SpookyError('body_too_large', 'request body over max_request_body_bytes'));
            }
          },
        });
        attempt.headersAt = performance.now();
        health.reportTraffic(upstream.name, backend.address, { kind: 'response', status: response.status });
        ctx.winner = attempt;
        ctx.response = response;
        return CONTINUE;
      } catch (err) {
        bodyIdle?.stop();
        const error = toSpookyError(err);
        attempt.error = error;
        health.reportTraffic(upstream.name, backend.address, { kind: 'error', code: error.code });
        const decision = decideNextAttempt({ attempts: ctx.attempts, error, clientAborted: ctx.signal.aborted });
        if (!decision.again) throw error;
      }
    }
  },
};
