/**
 * admitRequest stage: scoped rate limits, then the global and per-upstream in-flight caps.
 *  - Rate limits (`resilience.scoped_rate_limits`, LongLivedState's ScopedRateLimiters): a
 *    refusal is 429 `rate_limited` + `Retry-After` (the bucket's refill time); a shadow rule
 *    only records that it would have refused (`ctx.rateLimitMode = 'shadow'`).
 *  - In-flight caps: the global and the upstream permit are try-acquired together (all or
 *    none, never a queue); full → 503 `inflight_global` / `inflight_upstream` + `Retry-After:
 *    route_queue.shed_retry_after_seconds`. The permits are returned by `ctx.defer` when the
 *    request is finished. (The per-backend cap is the attempt loop's: a full backend is
 *    skipped like an unavailable one.)
 * Cost without rate rules: two compare-and-increments and one deferred closure.
 */
import type { HeaderList } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import type { LocalReply } from '../http/local-reply.ts';
import { RATE_LIMITED_REASON } from '../resilience/reasons.ts';
import type { RateLimitRequest } from '../resilience/token-bucket-limiter.ts';
import { RequestAttributes } from '../routing/request-attributes.ts';
import type { RequestContext } from './context.ts';
import { CONTINUE, type Stage, type StageResult } from './stage.ts';
import type { StageDeps } from './stage-deps.ts';

export function createAdmitRequest(deps: StageDeps): Stage {
  const { rateLimits, inflight } = deps.state;
  return {
    name: 'admitRequest',
    run(ctx: RequestContext): StageResult {
      const upstream = ctx.upstream;
      if (upstream === null) return CONTINUE;
      if (rateLimits.limiters.length > 0) {
        const decision = rateLimits.check(rateLimitRequest(ctx, upstream.name), performance.now(), (rule) => {
          ctx.rateLimitRule ??= rule;
          ctx.rateLimitMode ??= 'shadow';
        });
        if (decision.verdict === 'limit') {
          ctx.rateLimitRule = decision.rule;
          ctx.rateLimitMode = 'enforce';
          return retryAfterReply(429, RATE_LIMITED_REASON, decision.retryAfterSeconds);
        }
      }
      const gauge = upstream.inflight;
      const shed = inflight.admit(gauge);
      if (shed !== null) {
        ctx.shed = shed;
        return retryAfterReply(503, shed, ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
      }
      ctx.defer(() => inflight.release(gauge));
      return CONTINUE;
    },
  };
}

export function retryAfterReply(status: number, code: string, seconds: number): LocalReply {
  return { status, code, headers: [['retry-after', String(Math.max(1, Math.ceil(seconds)))]] };
}

/** The request as key specs read it (built only when rate rules exist). */
function rateLimitRequest(ctx: RequestContext, upstream: string): RateLimitRequest {
  const head = ctx.exchange.head;
  const headers: HeaderList = head.headers;
  const attributes = new RequestAttributes(headers, head.path);
  return {
    upstream,
    clientIp: ctx.exchange.remoteAddress ?? '',
    method: head.method,
    authority: ctx.host ?? head.authority ?? headerValue(headers, 'host') ?? '',
    path: ctx.matchPath,
    connectionId: ctx.exchange.connectionId ?? null,
    header: (name) => attributes.header(name)?.[0],
    cookie: (name) => attributes.cookie(name)?.[0],
    query: (name) => attributes.query(name)?.[0],
  };
}
