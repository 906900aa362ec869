/**
 * The one error mapper: every error a route or hook throws, and every unknown URL, becomes an
 * RFC 9457 application/problem+json body {type, title, status, detail, code, issues?}.
 * `type` is `urn:spooky:problem:<code>`; `code` repeats the stable code for scripts.
 * 5xx details are never sent to the client (they are logged).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConfigIssue } from '@spooky/config';
import { CpError, type CpErrorCode, ERROR_TABLE, isCpError } from '../errors.ts';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly issues?: readonly ConfigIssue[];
}

/** `extensions` add members (RFC 9457 §3.2) but never replace the standard ones. */
export function problemOf(
  code: CpErrorCode,
  detail: string,
  issues?: readonly ConfigIssue[],
  extensions?: Readonly<Record<string, unknown>>,
): Problem {
  const { status, title } = ERROR_TABLE[code];
  return { ...extensions, type: `urn:spooky:problem:${code}`, title, status, detail, code, ...(issues ? { issues } : {}) };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="spooky"');
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** Translates fastify's own errors (body limits, media types, schema validation) to our codes. */
export function toCpError(err: FastifyError): CpError {
  if (isCpError(err)) return err;
  if (err.validation) {
    const issues = err.validation.map((v) => ({
      pointer: `${v.instancePath}${typeof v.params?.['missingProperty'] === 'string' ? `/${v.params['missingProperty']}` : ''}`,
      code: `request.${v.keyword}`,
      message: v.message ?? 'invalid',
    }));
    return new CpError('invalid_request', `request ${err.validationContext ?? 'input'} is invalid`, { issues });
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

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toCpError(err);
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    const detail = mapped.status >= 500 ? 'internal error' : mapped.message;
    return sendProblem(reply, problemOf(mapped.code, detail, mapped.issues, mapped.status >= 500 ? undefined : mapped.extensions));
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(reply, problemOf('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
