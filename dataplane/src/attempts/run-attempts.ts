/**
 * runAttempts stage: the attempt loop, the only place that composes the resilience decisions.
 * Each turn:
 *  1. candidates: healthy backends (health handles) whose breaker admits traffic and whose
 *     in-flight gauge has room, minus those already tried (a retry always goes elsewhere);
 *     none → 503 (`no_healthy_backends`, or `circuit_open` / `inflight_backend` + Retry-After
 *     when only breakers / backend caps left nothing);
 *  2. the balancer picks; the Attempt takes the breaker permit and the backend permit and
 *     begins (attempt.ts: it alone feeds stats, passive health and the breaker when it ends);
 *  3. forward. A response head whose status is in `retry_on`, or a failure before any head,
 *     asks `decideRetry` (facts: method, what was sent, body replayability, deadline,
 *     alternates, budget); a retry aborts the held response (the connection is not left
 *     half-read), waits the jittered backoff and goes round again; a refusal relays the
 *     response or throws the error, and its reason is kept for `spooky_retries_total`.
 * The retry budget counts the request's primary at the first dispatch and each retry when it
 * is sent. Bodies are kept for replay only when a retry is possible at all and only up to
 * `max_replay_body_bytes` (replay-body.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, SpookyError, toSpookyError } from '../errors.ts';
import { upstreamRequestHeaders } from '../forwarding/upstream-request-headers.ts';
import type { UpstreamResponse } from '../http/backend-transport.ts';
import type { HeaderList } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { retryAfterReply } from '../pipeline/admit-request.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';
import { type AttemptFailure, decideRetry, type RetryDecision } from '../resilience/decide-retry.ts';
import type { CompiledUpstream } from '../runtime/generation.ts';
import { Attempt } from './attempt.ts';
import { bodyIdleWatch } from './body-idle-watch.ts';
import { ReplayableBody } from './replay-body.ts';

/** The retry_on condition a try's error stands for; null = not a retryable kind. */
export function failureKind(code: string): AttemptFailure | null {
  if (code === 'upstream_connect_failed') return 'connect_failure';
  if (code === 'upstream_reset') return 'reset';
  if (code === 'upstream_timeout') return 'timeout';
  return null;
}

export function createRunAttempts(deps: StageDeps): Stage {
  return {
    name: 'runAttempts',
    run: (ctx) => runAttempts(ctx, deps),
  };
}

/** The request's content-length (0 when absent or unreadable: the replay buffer then bounds itself). */
function declaredLength(headers: HeaderList): number {
  const v = headerValue(headers, 'content-length');
  const n = v === null ? 0 : Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** Why no candidate was left (for the 503's reason). */
type Empty = 'health' | 'circuit_open' | 'inflight_backend';

async function runAttempts(ctx: RequestContext, deps: StageDeps): Promise<StageResult> {
  const upstream = ctx.upstream;
  if (upstream === null) throw new SpookyError('internal', 'runAttempts without a route');
  const { exchange } = ctx;
  const budgets = deps.state.budgets;
  const headers = upstreamRequestHeaders({ head: exchange.head, remoteAddress: exchange.remoteAddress, requestId: ctx.requestId });
  const performanceConfig = ctx.generation.config.performance;
  const maxBody = performanceConfig.max_request_body_bytes;
  const bodyIdleMs = performanceConfig.client_body_idle_timeout_ms;
  const deadlineAt = ctx.startedAt + upstream.policy.timeouts.request_timeout_ms;
  const policy = upstream.policy;
  const retries = policy.retries;
  const canRetryAtAll = retries.max_attempts > 1 && upstream.backends.length > 1;
  let replay: ReplayableBody | null = null;
  // A body declared larger than the replay bound is never kept (and so never retried).
  if (exchange.body !== null && canRetryAtAll && retries.max_replay_body_bytes > 0 && declaredLength(exchange.head.headers) <= retries.max_replay_body_bytes) {
    const kept = new ReplayableBody(exchange.body, retries.max_replay_body_bytes);
    replay = kept;
    ctx.defer(() => kept.close());
  }
  budgets.recordPrimary(upstream.retryWindow, performance.now());
  let tried: Set<number> | null = null;
  let empty: Empty = 'health';
  for (;;) {
    const now = performance.now();
    const candidates = pickable(upstream, now, tried, (why) => {
      empty = why;
    });
    const backendIndex = candidates.length === 0 ? null : upstream.balancer.pick(candidates, { exclude: tried, request: exchange });
    const backend = backendIndex === null ? undefined : upstream.backends[backendIndex];
    if (backendIndex === null || backend === undefined) {
      if (empty === 'health') throw new SpookyError('no_healthy_backends');
      // Every candidate's backend cap is full: wait (bounded queue, bounded by the request's
      // deadline and the client) for a permit of this upstream, then pick again.
      if (empty === 'inflight_backend') {
        const waited = await waitForPermit(ctx, deps, upstream.name);
        if (waited) {
          empty = 'health';
          continue;
        }
        ctx.shed = 'queue_full';
        return retryAfterReply(503, 'queue_full', ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
      }
      ctx.shed = empty;
      return retryAfterReply(503, empty, ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
    }
    if (tried === null) tried = new Set();
    tried.add(backendIndex);
    const backendGauge = backend.inflight.tryAcquire() ? backend.inflight : null;
    const attempt = new Attempt({
      index: ctx.attempts.length,
      upstream: upstream.name,
      backendIndex,
      backend,
      permit: backend.breaker.acquire(now),
      count5xx: policy.circuit_breaker.count_5xx,
      health: ctx.generation.health,
      backendPermit: backendGauge,
      queue: deps.state.routeQueue,
      requestSignal: ctx.signal,
    });
    ctx.attempts.push(attempt);
    if (attempt.index > 0) budgets.recordRetry(upstream.retryWindow, now);
    // A stalled upload fails this try: 408 before the head, a reset after it
    // (body-idle-watch.ts; no timer of its own). The try's end stops it.
    attempt.bodyWatch =
      exchange.body === null
        ? null
        : bodyIdleWatch.watch(bodyIdleMs, () => {
            if (!attempt.controller.signal.aborted) attempt.controller.abort(new SpookyError('client_body_timeout', 'request body idle over client_body_idle_timeout_ms'));
          });
    let response: UpstreamResponse;
    try {
      response = await backend.transport.forward({
        method: exchange.head.method,
        path: exchange.head.path,
        headers,
        body: replay === null ? exchange.body : replay.reader(),
        signal: attempt.controller.signal,
        onRequestStart: () => {
          attempt.requestSent = true;
        },
        onBodyEnd: () => attempt.bodyWatch?.stop(),
        onBodyBytes: (n) => {
          attempt.bodyWatch?.touch();
          attempt.bytesSent += n;
          if (attempt.bytesSent > ctx.bytesIn) ctx.bytesIn = attempt.bytesSent;
          // A body without (or with a false) content-length is limited as it streams.
          if (attempt.bytesSent > maxBody && !attempt.controller.signal.aborted) {
            attempt.controller.abort(new SpookyError('body_too_large', 'request body over max_request_body_bytes'));
          }
        },
      });
    } catch (err) {
      const error = toSpookyError(err);
      attempt.end(error);
      const decision = decide(ctx, deps, upstream, attempt, failureKind(error.code), null, deadlineAt, replay);
      if (!decision.retry) throw error;
      await backoff(ctx, decision.backoffMs);
      continue;
    }
    attempt.headArrived(response.status);
    const wrapped = attempt.wrap(response);
    if (retries.retry_on.includes(response.status)) {
      const decision = decide(ctx, deps, upstream, attempt, null, response.status, deadlineAt, replay);
      if (decision.retry) {
        wrapped.abort(); // never relayed: cancelled, not left half-read on the connection
        await backoff(ctx, decision.backoffMs);
        continue;
      }
    }
    ctx.winner = attempt;
    ctx.response = wrapped;
    return CONTINUE;
  }
}

/**
 * Candidates for the balancer: the health list, without backends whose breaker is open (or
 * whose half-open probes are all out) or whose in-flight gauge is full, and without those
 * already tried. The health list itself when nothing is filtered out (no allocation).
 */
function pickable(upstream: CompiledUpstream, now: number, tried: ReadonlySet<number> | null, why: (e: Empty) => void): readonly number[] {
  const healthy = upstream.candidates.current();
  const backends = upstream.backends;
  let out: number[] | null = null;
  let blocked: Empty | null = null;
  for (let k = 0; k < healthy.length; k++) {
    const i = healthy[k] as number;
    const b = backends[i];
    let ok = b !== undefined && (tried === null || !tried.has(i));
    if (ok && b !== undefined && !b.breaker.available(now)) {
      ok = false;
      blocked ??= 'circuit_open';
    }
    if (ok && b !== undefined && b.inflight.active >= b.inflight.limit) {
      ok = false;
      blocked ??= 'inflight_backend';
    }
    if (ok) {
      out?.push(i);
    } else if (out === null) {
      out = healthy.slice(0, k) as number[];
    }
  }
  const list = out ?? healthy;
  if (list.length === 0 && blocked !== null) why(blocked);
  return list;
}

/** decideRetry over this try's facts; the refusal's reason is kept for the metrics. */
function decide(
  ctx: RequestContext,
  deps: StageDeps,
  upstream: CompiledUpstream,
  attempt: Attempt,
  failure: AttemptFailure | null,
  status: number | null,
  deadlineAt: number,
  replay: ReplayableBody | null,
): RetryDecision {
  const now = performance.now();
  const decision = decideRetry(
    {
      method: ctx.exchange.head.method,
      attempts: ctx.attempts.length,
      failure,
      status,
      responseRelayed: false,
      requestSent: attempt.requestSent || attempt.bytesSent > 0,
      bodyReplayable: ctx.exchange.body === null || replay?.replayable === true,
      remainingMs: deadlineAt - now,
      alternatesLeft: alternates(upstream, ctx, now),
      clientAborted: ctx.exchange.signal.aborted,
      budgetAllows: deps.state.budgets.canRetry(upstream.retryWindow, now),
    },
    upstream.policy.retries,
    deps.random,
  );
  ctx.retryRefusal = decision.retry ? null : decision.reason;
  return decision;
}

/** Untried backends that could take a retry now. */
function alternates(upstream: CompiledUpstream, ctx: RequestContext, now: number): number {
  let n = 0;
  const tried = new Set<number>();
  for (const a of ctx.attempts) tried.add(a.backendIndex);
  for (const i of upstream.candidates.current()) {
    const b = upstream.backends[i];
    if (b !== undefined && !tried.has(i) && b.breaker.available(now) && b.inflight.active < b.inflight.limit) n++;
  }
  return n;
}

/**
 * Queues the request for a backend permit of `upstream`: true when woken by a release, false
 * when the queue is full; throws the request's abort reason (deadline, client gone).
 */
function waitForPermit(ctx: RequestContext, deps: StageDeps, upstream: string): Promise<boolean> {
  if (ctx.signal.aborted) return Promise.reject(abortError(ctx.signal));
  const queue = deps.state.routeQueue;
  return new Promise<boolean>((resolve, reject) => {
    let onAbort: (() => void) | null = null;
    const ticket = queue.enqueue(upstream, () => {
      if (onAbort !== null) ctx.signal.removeEventListener('abort', onAbort);
      resolve(true);
    });
    if (typeof ticket === 'string') {
      resolve(false);
      return;
    }
    onAbort = (): void => {
      queue.remove(upstream, ticket);
      reject(abortError(ctx.signal));
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The jittered pause before a retry; the request's abort (client gone, deadline) ends it with that reason. */
async function backoff(ctx: RequestContext, ms: number): Promise<void> {
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch {
    throw abortError(ctx.signal);
  }
}
