/**
 * GET /v1/events?scope=&follow= — Server-Sent Events of the lifecycle vocabulary
 * (CP_EVENT_TYPES). Each event: `id: <n>`, `event: <type>`, `data: {"id","type","scope","at","data"}`.
 * Without Last-Event-ID the stream starts with what happens next; with it, every retained event
 * after that id is replayed first, then live ones follow (no gap, no duplicate: the stream
 * always reads the log after its own cursor). A Last-Event-ID older than the retained window
 * → 410 cursor_expired (resynchronize from the REST views, then reconnect without it).
 * `follow=false` replays and closes (scripts, tests). A `: heartbeat` comment every 15 s keeps
 * proxies from timing the stream out. All checks happen before the response is hijacked, so
 * errors are still problem+json.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { canAccessScope } from '../../auth/permissions.ts';
import { CpError } from '../../errors.ts';
import type { CpEvent } from '../../generations/lifecycle-ports.ts';
import type { ApiDeps } from '../api-deps.ts';
import { assertScopeAccess, assertScopeName } from '../guard.ts';

export const SSE_HEARTBEAT_MS = 15_000;
const BATCH = 500;

const eventsQuery = {
  type: 'object',
  properties: { scope: { type: 'string' }, follow: { type: 'boolean' } },
  additionalProperties: false,
} as const;

export async function eventRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const open = new Set<ServerResponse>();
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
      let cursor = startCursor(request.headers['last-event-id'], deps);
      const visible = (e: CpEvent): boolean => e.scope !== null && canAccessScope(principal, e.scope);

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(': connected\nretry: 2000\n\n');

      const flush = (): void => {
        if (raw.writableEnded) return;
        for (;;) {
          const batch = deps.events.after(cursor, scope, BATCH);
          const text = batch.filter(visible).map(frame).join('');
          if (text !== '') raw.write(text);
          const last = batch[batch.length - 1];
          if (last) cursor = last.id;
          if (batch.length < BATCH) return;
        }
      };
      flush();
      if (request.query.follow === false) {
        raw.end();
        return reply;
      }
      open.add(raw);
      const unsubscribe = deps.events.onAppended(flush);
      const heartbeat = setInterval(() => {
        if (!raw.writableEnded) raw.write(': heartbeat\n\n');
      }, deps.sseHeartbeatMs ?? SSE_HEARTBEAT_MS);
      heartbeat.unref();
      raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(raw);
      });
      return reply;
    },
  );
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

function frame(event: CpEvent): string {
  const data = JSON.stringify({ id: event.id, type: event.type, scope: event.scope, at: event.at, data: event.data });
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`;
}
