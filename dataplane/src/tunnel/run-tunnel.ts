/**
 * runTunnel stage: the last stage of a tunnel request (Exchange.tunnel set), in place of
 * runAttempts + streamResponse. Screening, routing and admission ran before it as for any
 * request, so a tunnel is routed (host, path, matchers), rate-limited and admitted like one.
 *
 *  1. Pick a backend of the target upstream (health ∧ breaker ∧ backend cap, balancer) and
 *     open an Attempt on it: breaker permit, backend permit, stats, passive health.
 *  2. Connect a dedicated connection (tunnel-upstream.ts), bounded by the upstream's
 *     `upstream_connect_timeout_ms`. A connect failure or timeout (nothing sent yet) is
 *     retried on another backend while `retries.max_attempts`, the retry budget and an
 *     untried candidate allow.
 *  3. WebSocket: send the client's handshake (for an RFC 8441 HTTP/2 client, which sends no
 *     key: with a fresh Sec-WebSocket-Key, whose Accept is checked before the client gets
 *     its 200 — else 502 upstream_protocol_error) (end-to-end headers + forwarding headers +
 *     `connection: upgrade`, `upgrade: websocket`), read the head within
 *     `upstream_headers_timeout_ms`. 101 → relayed to the client with the backend's
 *     end-to-end headers (Sec-WebSocket-Accept …). Any other answer is relayed as a
 *     complete response (body up to MAX_REFUSAL_BODY bytes when its content-length says
 *     so, else none) and the connection is closed.
 *     CONNECT: plain TCP to the backend's host:port whatever its scheme (the client speaks
 *     end to end inside the tunnel), answered `200` once connected.
 *  4. The Attempt ends at the 101 / 200 (its backend permit returns: a long-lived tunnel does
 *     not hold `per_backend_inflight_limit`; the request's global / upstream permits stay
 *     held until the tunnel closes), the whole-request deadline is cancelled (a tunnel lives
 *     as long as bytes move) and bytes are relayed both ways (byte-relay.ts) until either side
 *     closes or `performance.tunnel_idle_timeout_ms` passes without a byte.
 * The request ends (one access-log line, status 101 / 200, bytes both ways) when the tunnel
 * is closed. Failures before the head are SpookyErrors → the runner's local reply.
 */

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Attempt } from '../attempts/attempt.ts';
import { type Empty, pickable } from '../attempts/candidates.ts';
import { SpookyError, toSpookyError } from '../errors.ts';
import { upstreamRequestHeaders } from '../forwarding/upstream-request-headers.ts';
import type { CancelSignal } from '../http/cancellation.ts';
import type { ClientTunnel, HeaderList } from '../http/exchange.ts';
import { endToEndHeaders, headerValue } from '../http/hop-by-hop.ts';
import { retryAfterReply } from '../pipeline/admit-request.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';
import type { CompiledUpstream } from '../runtime/generation.ts';
import { withTraceparent } from '../tracing/with-traceparent.ts';
import { relayBytes } from './byte-relay.ts';
import { connectTunnel, type ResponseHead, readResponseHead, type TunnelTls } from './tunnel-upstream.ts';
import { acceptMatches, h2ClientHeaders, h2UpstreamHeaders, serializeRequestHead, websocketClientHeaders, websocketUpstreamHeaders } from './tunnel-wire.ts';

/** Largest body of a refused upgrade that is relayed (a longer one is cut to its head). */
export const MAX_REFUSAL_BODY = 65_536;

const SYSTEM_ROOTS: TunnelTls = { verifyCertificates: true, ca: null };

export function createRunTunnel(deps: StageDeps): Stage {
  return { name: 'runTunnel', run: (ctx) => runTunnel(ctx, deps) };
}

async function runTunnel(ctx: RequestContext, deps: StageDeps): Promise<StageResult> {
  const upstream = ctx.upstream;
  const tunnel = ctx.exchange.tunnel;
  if (upstream === null || tunnel === undefined) throw new SpookyError('internal', 'runTunnel without a route or a tunnel');
  const connected = await connectWithRetries(ctx, deps, upstream, tunnel);
  if ('status' in connected) return connected;
  const { attempt, socket } = connected;
  const timeouts = upstream.policy.timeouts;
  let rest: Buffer = Buffer.alloc(0);
  if (tunnel.kind === 'websocket') {
    const forwardedRequest = upstreamRequestHeaders(
      { head: ctx.exchange.head, protocol: ctx.exchange.protocol, remoteAddress: ctx.exchange.remoteAddress, requestId: ctx.requestId },
      upstream.forwarding,
    );
    // With span export the handshake carries the request span's context (a tunnel has no try span).
    if (ctx.trace === null) ctx.traceId = forwardedRequest.traceId;
    const forwarded = ctx.trace === null ? forwardedRequest.headers : withTraceparent(forwardedRequest.headers, ctx.trace.traceparent);
    // An RFC 8441 client sends no key (its stream needs none): the backend's handshake gets ours.
    const key = tunnel.handshake === 'h2' ? randomBytes(16).toString('base64') : '';
    const headers = websocketUpstreamHeaders(tunnel.handshake === 'h2' ? h2UpstreamHeaders(forwarded, key) : forwarded);
    attempt.requestSent = true;
    socket.write(serializeRequestHead('GET', ctx.exchange.head.path, headers));
    let head: ResponseHead;
    try {
      head = await readResponseHead(socket, timeouts.upstream_headers_timeout_ms, attempt.controller.signal);
    } catch (err) {
      const error = toSpookyError(err);
      attempt.end(error);
      throw error;
    }
    attempt.headArrived(head.status);
    if (head.status !== 101) {
      await relayRefusal(ctx, socket, head, timeouts.upstream_body_idle_timeout_ms);
      attempt.end(null);
      return CONTINUE;
    }
    if (tunnel.handshake === 'h2') {
      // RFC 8441: the backend's Accept must answer our key; the client gets 200 without it.
      if (!acceptMatches(head.headers, key)) {
        socket.destroy();
        const error = new SpookyError('upstream_protocol_error', 'tunnel: Sec-WebSocket-Accept does not answer the key');
        attempt.end(error);
        throw error;
      }
      tunnel.accept(200, h2ClientHeaders(head.headers));
    } else {
      tunnel.accept(101, websocketClientHeaders(head.headers));
    }
    rest = head.rest;
  } else {
    attempt.headArrived(200);
    tunnel.accept(200, []);
  }
  ctx.status = tunnel.kind === 'websocket' && tunnel.handshake === 'http1' ? 101 : 200;
  attempt.end(null);
  // From here the tunnel is bounded by its idle timeout, not by the request deadline.
  ctx.deadline?.cancel();
  if (rest.length > 0) tunnel.socket.write(rest);
  if (tunnel.head.length > 0) socket.write(tunnel.head);
  const result = await relayBytes(tunnel.socket, socket, ctx.generation.config.performance.tunnel_idle_timeout_ms, ctx.signal);
  ctx.bytesIn += result.bytesFromClient + tunnel.head.length;
  ctx.bytesOut += result.bytesFromUpstream + rest.length;
  if (result.end === 'idle_timeout') ctx.outcome = 'timeout:tunnel_idle';
  return CONTINUE;
}

type Connected = { readonly attempt: Attempt; readonly socket: Socket };

/** Step 1–2: a connected socket on a picked backend, or a 503 reply when nothing can be picked. */
async function connectWithRetries(ctx: RequestContext, deps: StageDeps, upstream: CompiledUpstream, tunnel: ClientTunnel): Promise<Connected | Exclude<StageResult, typeof CONTINUE>> {
  const budgets = deps.state.budgets;
  const maxAttempts = Math.max(1, upstream.policy.retries.max_attempts);
  const timeouts = upstream.policy.timeouts;
  const tls = tunnel.kind === 'websocket' ? (ctx.generation.backendTls?.get(upstream.name) ?? SYSTEM_ROOTS) : null;
  budgets.recordPrimary(upstream.retryWindow, performance.now());
  const tried = new Set<number>();
  for (;;) {
    const now = performance.now();
    let empty: Empty = 'health';
    const candidates = pickable(upstream, now, tried, (why) => {
      empty = why;
    });
    const index = candidates.length === 0 ? null : upstream.balancer.pick(candidates, { exclude: tried, request: ctx.exchange });
    const backend = index === null ? undefined : upstream.backends[index];
    if (index === null || backend === undefined) {
      const last = ctx.attempts[ctx.attempts.length - 1]?.error;
      if (last) {
        ctx.retryRefusal = 'no_alternate';
        throw last;
      }
      if (empty === 'health') throw new SpookyError('no_healthy_backends');
      ctx.shed = empty;
      return retryAfterReply(503, empty, ctx.generation.config.resilience.route_queue.shed_retry_after_seconds);
    }
    tried.add(index);
    if (tried.size > 1) budgets.recordRetry(upstream.retryWindow, now);
    const attempt = new Attempt({
      index: ctx.attempts.length,
      upstream: upstream.name,
      backendIndex: index,
      backend,
      permit: backend.breaker.acquire(now),
      count5xx: upstream.policy.circuit_breaker.count_5xx,
      health: ctx.generation.health,
      backendPermit: backend.inflight.tryAcquire() ? backend.inflight : null,
      queue: deps.state.routeQueue,
      requestSignal: ctx.signal,
    });
    ctx.attempts.push(attempt);
    ctx.winner = attempt;
    try {
      const socket = await connectTunnel({ address: backend.address, tls, connectTimeoutMs: timeouts.upstream_connect_timeout_ms, signal: attempt.controller.signal });
      return { attempt, socket };
    } catch (err) {
      const error = toSpookyError(err);
      attempt.end(error);
      const retryable = error.code === 'upstream_connect_failed' || error.code === 'upstream_timeout';
      if (!retryable || ctx.signal.aborted || ctx.attempts.length >= maxAttempts || !budgets.canRetry(upstream.retryWindow, performance.now())) {
        ctx.retryRefusal = retryable && !ctx.signal.aborted ? (ctx.attempts.length >= maxAttempts ? 'max_attempts' : 'budget') : null;
        throw error;
      }
    }
  }
}

/** A non-101 answer to an upgrade: relayed whole (bounded body), then the backend connection closes. */
async function relayRefusal(ctx: RequestContext, socket: Socket, head: ResponseHead, idleMs: number): Promise<void> {
  const declared = Number(headerValue(head.headers, 'content-length') ?? '0');
  const want = Number.isSafeInteger(declared) && declared > 0 && declared <= MAX_REFUSAL_BODY ? declared : 0;
  let body = head.rest.subarray(0, want);
  if (body.length < want) body = await readMore(socket, body, want, idleMs, ctx.signal);
  socket.destroy();
  const headers: HeaderList = endToEndHeaders(head.headers).filter(([name]) => name !== 'content-length');
  ctx.status = head.status;
  ctx.bytesOut += body.length;
  ctx.exchange.response.sendComplete(head.status, headers, body);
}

/** Reads until `want` bytes (or the backend closes, goes idle `idleMs`, or the client leaves). */
function readMore(socket: Socket, have: Buffer, want: number, idleMs: number, signal: CancelSignal): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [have];
    let size = have.length;
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', done);
      signal.removeEventListener('abort', done);
      resolve(Buffer.concat(parts).subarray(0, want));
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= want) done();
    };
    const timer = setTimeout(done, idleMs);
    socket.on('data', onData);
    socket.once('close', done);
    signal.addEventListener('abort', done, { once: true });
    socket.resume();
  });
}
