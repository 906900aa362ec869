/**
 * Idempotency-Key on mutating routes (config.mutating). Keys belong to the token name that
 * sent them. The first request with a key reserves it (a pending record); its response, when
 * below 500, is stored with the headers that matter. A later request with the same key:
 *   same method, path and body → the stored response, byte for byte, plus
 *     `Idempotent-Replayed: true` (the handler does not run again);
 *   anything else → 422 idempotency_key_reused;
 *   first one still running → 409 idempotency_in_progress.
 * A 5xx response releases the key (a retry may run). Records expire after 24 h; a pending
 * record older than PENDING_STALE_MS (a crash mid-request) counts as absent.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@spooky/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CpError } from '../errors.ts';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const PENDING_STALE_MS = 60_000;
/** Response headers stored and replayed (besides the body and status). */
export const REPLAYED_HEADERS = ['content-type', 'etag', 'location'] as const;

export interface IdempotencyRequest {
  readonly principal: string;
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly bodySha256: string;
  readonly createdAt: string;
}

export interface IdempotencyRecord extends IdempotencyRequest {
  /** null while the first request is still running. */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>> | null;
  readonly body: string | null;
}

export interface IdempotencyStore {
  /**
   * In one transaction: deletes records created before `expireBefore`, then returns the record
   * of (principal, key) when one exists (a pending one created before `staleBefore` is replaced),
   * else stores `request` as pending and returns null.
   */
  begin(request: IdempotencyRequest, expireBefore: string, staleBefore: string): IdempotencyRecord | null;
  complete(principal: string, key: string, response: { status: number; headers: Record<string, string>; body: string }): void;
  /** Forgets a pending record (the request failed with 5xx). */
  release(principal: string, key: string): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { readonly principal: string; readonly key: string; readonly replay: boolean } | null;
  }
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function installIdempotency(app: FastifyInstance, store: IdempotencyStore, now: () => Date): void {
  app.decorateRequest('idempotency', null);
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.mutating || !request.principal) return;
    const raw = request.headers[IDEMPOTENCY_HEADER];
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (key === undefined) return;
    if (!KEY_PATTERN.test(key)) throw new CpError('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters');
    const at = now();
    const mine: IdempotencyRequest = {
      principal: request.principal.name,
      key,
      method: request.method,
      path: request.url,
      bodySha256: bodyHash(request.body),
      createdAt: at.toISOString(),
    };
    const found = store.begin(
      mine,
      new Date(at.getTime() - IDEMPOTENCY_TTL_MS).toISOString(),
      new Date(at.getTime() - PENDING_STALE_MS).toISOString(),
    );
    if (found === null) {
      request.idempotency = { principal: mine.principal, key, replay: false };
      return;
    }
    if (found.method !== mine.method || found.path !== mine.path || found.bodySha256 !== mine.bodySha256) {
      throw new CpError('idempotency_key_reused', `Idempotency-Key ${key} was used for a different request`);
    }
    if (found.status === null || found.body === null) {
      throw new CpError('idempotency_in_progress', `the request with Idempotency-Key ${key} has not finished`);
    }
    request.idempotency = { principal: mine.principal, key, replay: true };
    reply.code(found.status).headers({ ...found.headers, [REPLAYED_HEADER]: 'true' });
    reply.send(found.body);
    return reply;
  });
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const pending = request.idempotency;
    if (!pending || pending.replay) return payload;
    request.idempotency = null;
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
    if (reply.statusCode >= 500 || body === null) {
      store.release(pending.principal, pending.key);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    store.complete(pending.principal, pending.key, { status: reply.statusCode, headers, body });
    return payload;
  });
}

/** sha256 of the request body as received: raw text for config bodies, canonical JSON otherwise. */
function bodyHash(body: unknown): string {
  const text = typeof body === 'string' ? body : canonicalJson(body ?? null);
  return createHash('sha256').update(text).digest('hex');
}
