/**
 * The one error mapper: every error a route or hook throws, and every unknown URL, becomes an
 * RFC 9457 application/problem+json body {type, title, status, detail, code, issues?}.
 * `type` is `urn:spooky:problem:<code>`; `code` repeats the stable code for scripts.
 * 5xx details are never sent to the client (they are logged), except 503's, which say what is
 * unavailable and when to retry (Retry-After). At most MAX_RESPONSE_ISSUES
 * issues are sent (`totalIssues` counts them all when some were left out). The rollout
 * service's errors are mapped by rollout-problems.ts.
 */

import type { ConfigIssue } from '@spooky/config';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CpError, type CpErrorCode, ERROR_TABLE, isCorruptionError, isCpError } from '../errors.ts';
import { capIssues } from './response-bounds.ts';
import { problemOfRolloutError } from './rollout-problems.ts';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly issues?: readonly ConfigIssue[];
  readonly totalIssues?: number;
}

/** `extensions` add members (RFC 9457 §3.2) but never replace the standard ones. */
export function problemOf(
  code: CpErrorCode,
  detail: string,
  issues?: readonly ConfigIssue[],
  extensions?: Readonly<Record<string, unknown>>,
): Problem {
  const { status, title } = ERROR_TABLE[code];
  return { ...extensions, type: `urn:spooky:problem:${code}`, title, status, detail, code, ...(issues ? capIssues(issues) : {}) };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="spooky"');
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** Translates fastify's own errors (body limits, media types, schema validation) to our codes. */
export function toCpError(err: FastifyError): CpError {
  if (isCpError(err)) return err;
  if (err.validation) {
    const issues = err.validation.map(validationIssue);
    const part = err.validationContext ?? 'input';
    const first = issues[0];
    const where = first ? ` at ${first.pointer === '' ? '/' : first.pointer}: ${first.message}` : '';
    return new CpError('invalid_request', `request ${part} is invalid${where}`, { issues });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CpError('payload_too_large', 'request body exceeds the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CpError('unsupported_media_type', 'unsupported Content-Type');
  }
  const status = err.statusCode ?? 500;
  if (status === 404) return new CpError('not_found', err.message);
  if (status === 413) return new CpError('payload_too_large', err.message);
  if (status === 415) return new CpError('unsupported_media_type', err.message);
  if (status >= 400 && status < 500) return new CpError('invalid_request', err.message);
  return new CpError('internal', 'internal error', { cause: err });
}

/**
 * One ajv error as an issue whose pointer names the offending field: the value's own path, or
 * for a missing / unknown key the key under its object (`/seq`, `/extra`).
 */
function validationIssue(v: NonNullable<FastifyError['validation']>[number]): ConfigIssue {
  const key = v.params?.['missingProperty'] ?? v.params?.['additionalProperty'];
  const pointer = typeof key === 'string' ? `${v.instancePath}/${escapePointer(key)}` : v.instancePath;
  const message = v.keyword === 'additionalProperties' ? 'unknown key' : (v.message ?? 'invalid');
  return { pointer, code: `request.${v.keyword}`, message };
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * `onCorruption` is told of an error by which SQLite reported a damaged file; the request is
 * answered 503 store_unavailable rather than 500.
 */
export function installProblemHandlers(app: FastifyInstance, onCorruption?: (err: unknown) => void): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const rollout = problemOfRolloutError(err);
    if (rollout !== null) return sendProblem(reply, rollout);
    const corrupt = isCorruptionError(err);
    if (corrupt) {
      request.log.error({ err }, 'store reported corruption: writes refused from now on');
      onCorruption?.(err);
    }
    const mapped = corrupt ? new CpError('store_unavailable', 'the database file is damaged') : toCpError(err);
    const exposed = mapped.status < 500 || mapped.status === 503;
    if (!exposed) request.log.error({ err }, 'request failed');
    const detail = exposed ? mapped.message : 'internal error';
    if (mapped.retryAfterSeconds !== undefined) reply.header('retry-after', String(mapped.retryAfterSeconds));
    return sendProblem(reply, problemOf(mapped.code, detail, mapped.issues, exposed ? mapped.extensions : undefined));
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(reply, problemOf('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
