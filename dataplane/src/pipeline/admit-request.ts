/**
 * admitRequest stage: scoped rate limits, brownout, the global and per-upstream in-flight caps
 * and the adaptive admission limit, in that order.
 *  - Rate limits (`resilience.scoped_rate_limits`, LongLivedState's ScopedRateLimiters): a
 *    refusal is 429 `rate_limited` + `Retry-After` (the bucket's refill time); a shadow rule
 *    only records that it would have refused (`ctx.rateLimitMode = 'shadow'`).
 *  - Brownout (only when enabled): the pressure (global permits held ÷ global limit) is
 *    observed on every routed request; while active, requests to upstreams not in
 *    `core_routes` get 503 `brownout`. Each on / off transition is logged once (info).
 *  - In-flight caps: the global and the upstream permit are try-acquired together (all or
 *    none). Global full → 503 `inflight_global` at once (the process never queues for itself).
 *    Upstream full → the request waits in its upstream's route queue (upstream lane, bounded by
 *    `route_queue` caps, the request deadline and the client: an abort takes it out) holding no
 *    permit, until a finishing request of that upstream hands its permits over (FIFO); queue
 *    full → 503 `queue_full`; waited `route_queue.max_wait_ms` → 503 `queue_timeout`; a queue
 *    cap of 0 → 503 `inflight_upstream` at once.
 *  - Adaptive admission: with the in-flight permits, one admission permit (`state.admission`);
 *    refused → the in-flight permits go back and the request gets 503 `admission_limit`.
 * Every 503 carries `Retry-After: route_queue.shed_retry_after_seconds` and sets `ctx.shed`.
 * The permits are returned by one `ctx.defer` when the request is finished, which also feeds
 * the adaptive limit with the upstream latency (dispatch → response head) of each try of this
 * request that got a head: never with sheds, local replies or unroutable requests (they have no
 * try). The sample is applied when the request ends (Attempt keeps `headersAt`), which keeps
 * the attempt loop free of admission concerns.
 * Cost without rate rules and brownout: three compare-and-increments, one deferred closure and
 * a field read at release; no allocation beyond the closure (which the caps already needed).
 */
import type { Logger } from 'pino';
import { abortError } from '../errors.ts';
import type { HeaderList } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import type { LocalReply } from '../http/local-reply.ts';
import type { InflightGauge } from '../resilience/inflight-limiter.ts';
import { RATE_LIMITED_REASON, type ShedReason } from '../resilience/reasons.ts';
import type { RateLimitRequest } from '../resilience/token-bucket-limiter.ts';
import { RequestAttributes } from '../routing/request-attributes.ts';
import type { CompiledUpstream } from '../runtime/generation.ts';
import type { RequestContext } from './context.ts';
import { boundQueueWait } from './queue-wait.ts';
import { CONTINUE, type Stage, type StageResult } from './stage.ts';
import type { StageDeps } from './stage-deps.ts';

export function createAdmitRequest(deps: StageDeps): Stage {
  const { rateLimits, inflight, admission, brownout, routeQueue } = deps.state;
  const log: Logger | undefined = deps.logger;

  /**
   * The global + upstream permits of a finished request go to the oldest upstream-lane waiter
   * of that upstream that takes them (a waiter refused by the admission limit does not), else
   * back to the gauges.
   */
  function handOver(name: string, gauge: InflightGauge): void {
    for (;;) {
      const next = routeQueue.shiftUpstream(name);
      if (next === undefined) {
        inflight.release(gauge);
        return;
      }
      if (next()) return;
    }
  }

  /** The request is finished (its defer): latency samples, then its permits. */
  function finished(ctx: RequestContext, upstream: CompiledUpstream): void {
    const attempts = ctx.attempts;
    for (let i = 0; i < attempts.length; i++) {
      const a = attempts[i];
      if (a !== undefined && a.headersAt !== null) admission.recordLatency(a.headersAt - a.startedAt);
    }
    admission.release();
    handOver(upstream.name, upstream.inflight);
  }

  /** The request holds the global + upstream permits: adds the admission permit, or gives them back. */
  function admitted(ctx: RequestContext, upstream: CompiledUpstream): StageResult {
    if (admission.tryAcquire() !== null) {
      handOver(upstream.name, upstream.inflight);
      return shed(ctx, 'admission_limit');
    }
    ctx.defer(() => finished(ctx, upstream));
    return CONTINUE;
  }

  /**
   * Waits in the upstream lane of the route queue for a finishing request's permits, at most
   * `route_queue.max_wait_ms` (then 503 `queue_timeout`).
   */
  function waitForUpstream(ctx: RequestContext, upstream: CompiledUpstream): Promise<StageResult> {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    return new Promise<StageResult>((resolve, reject) => {
      let disarm: (() => void) | null = null;
      // Called by handOver with the permits already ours; false = refused (they go on to the next waiter).
      const ticket = routeQueue.enqueueUpstream(upstream.name, () => {
        disarm?.();
        if (admission.tryAcquire() !== null) {
          resolve(shed(ctx, 'admission_limit'));
          return false;
        }
        ctx.defer(() => finished(ctx, upstream));
        resolve(CONTINUE);
        return true;
      });
      if (typeof ticket === 'string') {
        resolve(shed(ctx, ticket));
        return;
      }
      disarm = boundQueueWait(ctx, () => routeQueue.remove(upstream.name, ticket), reject, () => resolve(shed(ctx, 'queue_timeout')));
    });
  }

  return {
    name: 'admitRequest',
    run(ctx: RequestContext): StageResult | Promise<StageResult> {
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
      if (brownout.enabled) {
        const global = inflight.global;
        const was = brownout.active;
        if (brownout.observe(global.active, global.limit) !== was) {
          const pressurePercent = global.limit > 0 ? Math.round((global.active * 100) / global.limit) : 0;
          log?.info({ brownout: !was, pressurePercent, inflight: global.active, limit: global.limit }, was ? 'brownout off' : 'brownout on');
        }
        const reason = brownout.shed(upstream.name);
        if (reason !== null) return shed(ctx, reason);
      }
      const full = inflight.admit(upstream.inflight);
      if (full === null) return admitted(ctx, upstream);
      if (full === 'inflight_upstream' && routeQueue.allowsWaiting(upstream.name)) return waitForUpstream(ctx, upstream);
      return shed(ctx, full);
    },
  };
}

/** A 503 shed: `ctx.shed` for the metrics and the access log, Retry-After from the route queue config. */
function shed(ctx: RequestContext, reason: ShedReason): LocalReply {
  ctx.shed = reason;
  return retryAfterReply(503, reason, ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
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
