/**
 * GET /v1/events?scope=&follow= — Server-Sent Events of the lifecycle vocabulary
 * (CP_EVENT_TYPES). Each event: `id: <n>`, `event: <type>`, `data: {"id","type","scope","at","data"}`.
 * Without Last-Event-ID the stream starts with what happens next; with it, every retained event
 * after that id is replayed first, then live ones follow (no gap, no duplicate: the stream
 * always reads the log after its own cursor). A Last-Event-ID older than the retained window
 * → 410 cursor_expired (resynchronize from the REST views, then reconnect without it).
 * `follow=false` replays and closes (scripts, tests). A `: heartbeat` comment every 15 s keeps
 * proxies from timing the stream out. All checks happen before the response is hijacked, so
 * errors are still problem+json. At most --sse-max-subscribers streams are open at once (one
 * more → 503 too_many_subscribers + Retry-After); events are serialised once and fanned out
 * (event-fanout.ts); a stream whose socket stops draining is disconnected.
 * With a rollout service, every decision appended to a rollout's log is also sent live as
 * `event: rollout.<kind>` (data {type, scope, at, data: {rolloutId, decision}}) to the streams
 * that may see its scope; those frames have no `id` and are not replayed on resume.
 */

import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { canAccessScope } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import type { CpEvent } from '../../generations/lifecycle-ports.ts';
import type { ApiDeps } from '../api-deps.ts';
import { EventFanout, rolloutFrame, type Subscriber, sseFrame } from '../event-fanout.ts';
import { assertScopeAccess, assertScopeName } from '../guard.ts';

export const SSE_HEARTBEAT_MS = 15_000;
/** Streams open at once by default (--sse-max-subscribers); one more → 503 + Retry-After. */
export const SSE_MAX_SUBSCRIBERS = 1000;
/** Bytes queued on a stream's socket past which it is disconnected (it resumes by Last-Event-ID). */
export const SSE_MAX_BUFFERED_BYTES = 1024 * 1024;
const SSE_RETRY_AFTER_SECONDS = 5;
const BATCH = 500;

const eventsQuery = {
  type: 'object',
  properties: { scope: { type: 'string' }, follow: { type: 'boolean' } },
  additionalProperties: false,
} as const;

export async function eventRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const maxSubscribers = deps.sseMaxSubscribers ?? SSE_MAX_SUBSCRIBERS;
  const fanout = new EventFanout(deps.events, { maxBufferedBytes: SSE_MAX_BUFFERED_BYTES });
  const open = new Set<ServerResponse>();
  const offDecisions = deps.rollouts?.onDecision((rollout, decision) => {
    if (fanout.size > 0) fanout.broadcast(rollout.scope, Buffer.from(rolloutFrame(rollout, decision)));
  });
  if (offDecisions) app.addHook('onClose', async () => offDecisions());
  // Open streams would keep server.close() waiting forever: end them first.
  app.addHook('preClose', async () => {
    for (const raw of open) raw.end();
    open.clear();
  });

  app.get<{ Querystring: { scope?: string; follow?: boolean } }>(
    '/v1/events',
    { config: { permission: 'fleet:read' }, schema: { querystring: eventsQuery } },
    async (request, reply) => {
      const principal = request.principal!;
      const scope = request.query.scope ?? null;
      if (scope !== null) {
        assertScopeName(scope);
        assertScopeAccess(principal, scope);
      }
      const start = startCursor(request.headers['last-event-id'], deps);
      if (open.size >= maxSubscribers) {
        throw new CpError('too_many_subscribers', `${open.size} event streams are open (at most ${maxSubscribers})`, {
          retryAfterSeconds: SSE_RETRY_AFTER_SECONDS,
        });
      }
      const visible = (e: CpEvent): boolean => e.scope !== null && canAccessScope(principal, e.scope);
      reply.hijack();
      const raw = reply.raw;
      open.add(raw);
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(': connected\nretry: 2000\n\n');
      const subscriber: Subscriber = {
        cursor: start,
        scope,
        accepts: visible,
        seesScope: (s) => canAccessScope(principal, s),
        write: (frame) => {
          if (!raw.writableEnded && !raw.destroyed) raw.write(frame);
          return raw.writableLength;
        },
        drop: () => raw.destroy(),
      };
      let heartbeat: NodeJS.Timeout | undefined;
      raw.on('close', () => {
        clearInterval(heartbeat);
        fanout.remove(subscriber);
        open.delete(raw);
      });
      if (!(await replay(raw, subscriber, deps))) return reply;
      if (request.query.follow === false) {
        raw.end();
        return reply;
      }
      fanout.add(subscriber);
      heartbeat = setInterval(() => {
        if (!raw.writableEnded) raw.write(': heartbeat\n\n');
      }, deps.sseHeartbeatMs ?? SSE_HEARTBEAT_MS);
      heartbeat.unref();
      return reply;
    },
  );
}

/**
 * Writes the retained events after the subscriber's cursor, waiting for the socket to drain
 * between batches past the buffer bound. Returns false when the stream closed meanwhile. The
 * last (short) batch and joining the fan-out happen in one synchronous step, so no event
 * falls between replay and live delivery.
 */
async function replay(raw: ServerResponse, subscriber: Subscriber, deps: ApiDeps): Promise<boolean> {
  for (;;) {
    if (raw.destroyed || raw.writableEnded) return false;
    const batch = deps.events.after(subscriber.cursor, subscriber.scope, BATCH);
    const text = batch.filter(subscriber.accepts).map(sseFrame).join('');
    if (text !== '') raw.write(text);
    const last = batch[batch.length - 1];
    if (last) subscriber.cursor = last.id;
    if (batch.length < BATCH) return true;
    if (raw.writableLength > SSE_MAX_BUFFERED_BYTES) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          raw.off('drain', done);
          raw.off('close', done);
          resolve();
        };
        raw.once('drain', done);
        raw.once('close', done);
      });
    }
  }
}

/** Where to start reading: after Last-Event-ID, or after the newest event (live only). */
function startCursor(header: string | string[] | undefined, deps: ApiDeps): number {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  const window = deps.events.window();
  if (value === undefined || value === '') return window.latest;
  if (!/^\d{1,15}$/.test(value)) throw new CpError('invalid_request', 'Last-Event-ID must be an event id');
  const cursor = Number(value);
  if (window.oldest !== null && cursor < window.oldest - 1) {
    throw new CpError('cursor_expired', `events after ${cursor} are no longer retained (oldest is ${window.oldest})`, {
      extensions: { oldestEventId: window.oldest },
    });
  }
  return cursor;
}
