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
 *  Hedging (upstreams whose policy enables it, safe bodyless methods, first try only): the
 *  first try races a hedge sent after `delay_ms` without a head (hedge-race.ts,
 *  hedge-attempt.ts); the winner's head goes on through step 3 like any other, a race where
 *  both failed goes through decideRetry with the first try's error. Requests of other
 *  upstreams never reach that code (no timer, promise or closure of it).
 * The retry budget counts the request's primary at the first dispatch and each retry (and
 * hedge) when it is sent. Bodies are kept for replay only when a retry is possible at all and only up to
 * `max_replay_body_bytes` (replay-body.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, SpookyError, toSpookyError } from '../errors.ts';
import { upstreamRequestHeaders, withHost } from '../forwarding/upstream-request-headers.ts';
import type { UpstreamResponse } from '../http/backend-transport.ts';
import { abortSignalOf } from '../http/cancellation.ts';
import type { HeaderList } from '../http/exchange.ts';
import { headerValue } from '../http/hop-by-hop.ts';
import { retryAfterReply } from '../pipeline/admit-request.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { boundQueueWait } from '../pipeline/queue-wait.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';
import { type AttemptFailure, decideRetry, type RetryDecision } from '../resilience/decide-retry.ts';
import type { CompiledUpstream } from '../runtime/generation.ts';
import type { AttemptRole } from '../tracing/request-spans.ts';
import { withTraceparent } from '../tracing/with-traceparent.ts';
import { Attempt } from './attempt.ts';
import { bodyIdleWatch } from './body-idle-watch.ts';
import { alternates, type Empty, pickable } from './candidates.ts';
import { raceWithHedge } from './hedge-attempt.ts';
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

async function runAttempts(ctx: RequestContext, deps: StageDeps): Promise<StageResult> {
  const upstream = ctx.upstream;
  if (upstream === null) throw new SpookyError('internal', 'runAttempts without a route');
  const { exchange } = ctx;
  const budgets = deps.state.budgets;
  const forwarded = upstreamRequestHeaders(
    { head: exchange.head, protocol: exchange.protocol, remoteAddress: exchange.remoteAddress, requestId: ctx.requestId },
    upstream.forwarding,
  );
  // With span export the request span's trace id was set at accept (the one every try carries).
  if (ctx.trace === null) ctx.traceId = forwarded.traceId;
  const headers = forwarded.headers;
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
  // Hedged: this upstream hedges, the method is safe and there is no body (computed once; a
  // plain boolean test for upstreams that do not hedge).
  const hedging = policy.hedging;
  const hedged = hedging.enabled && exchange.body === null && upstream.backends.length > 1 && hedging.safe_methods.includes(exchange.head.method);
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
        if (waited === true) {
          empty = 'health';
          continue;
        }
        ctx.shed = waited;
        return retryAfterReply(503, waited, ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
      }
      ctx.shed = empty;
      return retryAfterReply(503, empty, ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
    }
    if (tried === null) tried = new Set();
    const attempt = begin(ctx, deps, upstream, backendIndex, now, tried, bodyIdleMs, ctx.attempts.length === 0 ? 'primary' : 'retry');
    const pending = send(ctx, attempt, headers, replay, maxBody);
    let winner = attempt;
    let response: UpstreamResponse;
    if (hedged && attempt.index === 0) {
      const firstTried = tried;
      const out = await raceWithHedge({
        ctx,
        deps,
        upstream,
        first: attempt,
        pending,
        delayMs: hedging.delay_ms,
        deadlineAt,
        tried: firstTried,
        dispatch: (index, at) => {
          const hedge = begin(ctx, deps, upstream, index, at, firstTried, bodyIdleMs, 'hedge');
          return { attempt: hedge, pending: send(ctx, hedge, headers, null, maxBody) };
        },
      });
      ctx.hedge = out.hedge;
      if (!out.ok) {
        // Both tries ended (hedge-attempt.ts ends each with its error); the first try's error answers.
        const error = toSpookyError(out.error);
        const decision = decide(ctx, deps, upstream, attempt, failureKind(error.code), null, deadlineAt, replay, tried);
        if (!decision.retry) throw error;
        await backoff(ctx, decision.backoffMs);
        continue;
      }
      winner = out.attempt;
      response = out.response;
    } else {
      try {
        response = await pending;
      } catch (err) {
        const error = toSpookyError(err);
        attempt.end(error);
        const decision = decide(ctx, deps, upstream, attempt, failureKind(error.code), null, deadlineAt, replay, tried);
        if (!decision.retry) throw error;
        await backoff(ctx, decision.backoffMs);
        continue;
      }
    }
    // The winner's head (the only try still in flight): retry_on applies to it as to any try.
    winner.headArrived(response.status);
    const wrapped = winner.wrap(response);
    if (retries.retry_on.includes(response.status)) {
      const decision = decide(ctx, deps, upstream, winner, null, response.status, deadlineAt, replay, tried);
      if (decision.retry) {
        wrapped.abort(); // never relayed: cancelled, not left half-read on the connection
        await backoff(ctx, decision.backoffMs);
        continue;
      }
    }
    ctx.winner = winner;
    ctx.response = wrapped;
    return CONTINUE;
  }
}

/**
 * Dispatches one try to backend `backendIndex`: the Attempt (breaker permit, backend permit
 * when the gauge has room), counted in the budget when it is not the first, marked tried, with
 * the client-body idle bound while it sends a body (408 before the head, a reset after it;
 * body-idle-watch.ts, no timer of its own; the try's end stops it). With span export, the try's
 * CLIENT span (ended by the try's end; its context is the traceparent this try sends).
 */
function begin(
  ctx: RequestContext,
  deps: StageDeps,
  upstream: CompiledUpstream,
  backendIndex: number,
  now: number,
  tried: Set<number>,
  bodyIdleMs: number,
  role: AttemptRole,
): Attempt {
  const backend = upstream.backends[backendIndex];
  if (backend === undefined) throw new SpookyError('internal', 'picked backend out of range');
  tried.add(backendIndex);
  const backendGauge = backend.inflight.tryAcquire() ? backend.inflight : null;
  const attempt = new Attempt({
    index: ctx.attempts.length,
    upstream: upstream.name,
    backendIndex,
    backend,
    permit: backend.breaker.acquire(now),
    count5xx: upstream.policy.circuit_breaker.count_5xx,
    health: ctx.generation.health,
    backendPermit: backendGauge,
    queue: deps.state.routeQueue,
    requestSignal: ctx.signal,
  });
  ctx.attempts.push(attempt);
  if (ctx.trace !== null) {
    attempt.span = ctx.trace.startAttempt({
      upstream: upstream.name,
      backendId: backend.id,
      backendAddress: backend.address,
      index: attempt.index,
      role,
      method: ctx.exchange.head.method,
    });
  }
  if (attempt.index > 0) deps.state.budgets.recordRetry(upstream.retryWindow, now);
  attempt.bodyWatch =
    ctx.exchange.body === null
      ? null
      : bodyIdleWatch.watch(bodyIdleMs, () => {
          if (!attempt.controller.signal.aborted) attempt.controller.abort(new SpookyError('client_body_timeout', 'request body idle over client_body_idle_timeout_ms'));
        });
  return attempt;
}

/** Forwards the request on `attempt`: resolves with the response head, rejects with the try's failure (not yet ended). */
function send(ctx: RequestContext, attempt: Attempt, headers: HeaderList, replay: ReplayableBody | null, maxBody: number): Promise<UpstreamResponse> {
  const { exchange } = ctx;
  // host_policy upstream: the headers carry backend 0's Host; any other backend gets a copy with its own.
  const hosts = ctx.upstream?.forwarding.backendHosts ?? null;
  const host = hosts === null || attempt.backendIndex === 0 ? undefined : hosts[attempt.backendIndex];
  const hosted = host === undefined ? headers : withHost(headers, host);
  return attempt.backend.transport.forward({
    method: exchange.head.method,
    path: exchange.head.path,
    headers: attempt.span === null ? hosted : withTraceparent(hosted, attempt.span.traceparent),
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
  tried: ReadonlySet<number>,
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
      alternatesLeft: alternates(upstream, tried, now),
      clientAborted: ctx.exchange.signal.aborted,
      budgetAllows: deps.state.budgets.canRetry(upstream.retryWindow, now),
    },
    upstream.policy.retries,
    deps.random,
  );
  ctx.retryRefusal = decision.retry ? null : decision.reason;
  return decision;
}

/**
 * Queues the request for a backend permit of `upstream`: true when woken by a release,
 * `queue_full` when the queue is full, `queue_timeout` after `route_queue.max_wait_ms`; throws
 * the request's abort reason (deadline, client gone).
 */
function waitForPermit(ctx: RequestContext, deps: StageDeps, upstream: string): Promise<true | 'queue_full' | 'queue_timeout'> {
  if (ctx.signal.aborted) return Promise.reject(abortError(ctx.signal));
  const queue = deps.state.routeQueue;
  return new Promise<true | 'queue_full' | 'queue_timeout'>((resolve, reject) => {
    let disarm: (() => void) | null = null;
    const ticket = queue.enqueue(upstream, () => {
      disarm?.();
      resolve(true);
    });
    if (typeof ticket === 'string') {
      resolve('queue_full');
      return;
    }
    disarm = boundQueueWait(ctx, () => queue.remove(upstream, ticket), reject, () => resolve('queue_timeout'));
  });
}

/** The jittered pause before a retry; the request's abort (client gone, deadline) ends it with that reason. */
async function backoff(ctx: RequestContext, ms: number): Promise<void> {
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal: abortSignalOf(ctx.signal) });
  } catch {
    throw abortError(ctx.signal);
  }
}
