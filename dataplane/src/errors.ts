/**
 * One error type and one table of codes for the data plane's request path. Every failure a
 * request can meet is a `SpookyError` whose `code` is a key of `ERROR_CODES`; the pipeline
 * runner turns it into a local reply (or a reset when the head was already sent) and into
 * the closed `outcome` vocabulary published in RequestEndEvent. Messages never carry secrets
 * or internal text meant for clients: clients see only the status, reason phrase and code.
 */

/** Who caused the failure: the client's request, the upstream, our config, or ourselves. */
export type ErrorSource = 'client' | 'upstream' | 'config' | 'internal';

/**
 * May another backend be tried? `never`: the failure is the request's or final;
 * `before_response`: safe to retry elsewhere while no response byte has been relayed (the
 * retry policy still decides: idempotency, budget, body replayability).
 */
export type RetryVerdict = 'never' | 'before_response';

interface CodeEntry {
  readonly httpStatus: number;
  readonly source: ErrorSource;
  readonly retry: RetryVerdict;
  /** Closed telemetry vocabulary (RequestEndEvent.outcome, metrics labels). */
  readonly outcome: string;
}

/** THE table. `spooky-reason` on a local reply is the key. */
export const ERROR_CODES = {
  bad_path: { httpStatus: 400, source: 'client', retry: 'never', outcome: 'rejected:bad_path' },
  bad_method: { httpStatus: 400, source: 'client', retry: 'never', outcome: 'rejected:bad_method' },
  method_not_allowed: { httpStatus: 405, source: 'client', retry: 'never', outcome: 'rejected:method_not_allowed' },
  bad_host: { httpStatus: 400, source: 'client', retry: 'never', outcome: 'rejected:bad_host' },
  bad_header: { httpStatus: 400, source: 'client', retry: 'never', outcome: 'rejected:bad_header' },
  authority_mismatch: { httpStatus: 400, source: 'client', retry: 'never', outcome: 'rejected:authority_mismatch' },
  bad_content_length: { httpStatus: 400, source: 'client', retry: 'never', outcome: 'rejected:bad_content_length' },
  body_too_large: { httpStatus: 413, source: 'client', retry: 'never', outcome: 'rejected:body_too_large' },
  headers_too_large: { httpStatus: 431, source: 'client', retry: 'never', outcome: 'rejected:headers_too_large' },
  client_aborted: { httpStatus: 499, source: 'client', retry: 'never', outcome: 'client:aborted' },
  client_body_timeout: { httpStatus: 408, source: 'client', retry: 'never', outcome: 'timeout:client_body' },
  request_timeout: { httpStatus: 504, source: 'config', retry: 'never', outcome: 'timeout:request' },
  no_route: { httpStatus: 404, source: 'config', retry: 'never', outcome: 'no_route' },
  no_generation: { httpStatus: 503, source: 'config', retry: 'never', outcome: 'no_generation' },
  no_healthy_backends: { httpStatus: 503, source: 'upstream', retry: 'never', outcome: 'upstream:no_healthy_backends' },
  upstream_connect_failed: { httpStatus: 502, source: 'upstream', retry: 'before_response', outcome: 'upstream:connect_failed' },
  upstream_tls_failed: { httpStatus: 502, source: 'upstream', retry: 'before_response', outcome: 'upstream:tls_failed' },
  upstream_timeout: { httpStatus: 504, source: 'upstream', retry: 'before_response', outcome: 'upstream:timeout' },
  upstream_protocol_error: { httpStatus: 502, source: 'upstream', retry: 'never', outcome: 'upstream:protocol_error' },
  upstream_reset: { httpStatus: 502, source: 'upstream', retry: 'never', outcome: 'upstream:reset' },
  internal: { httpStatus: 500, source: 'internal', retry: 'never', outcome: 'internal_error' },
} as const satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SpookyError extends Error {
  readonly code: ErrorCode;
  readonly source: ErrorSource;
  readonly retry: RetryVerdict;
  readonly httpStatus: number;

  /** `message` is for logs only (never sent to clients); keep secrets out of it. */
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? code, options?.cause === undefined ? undefined : { cause: options.cause });
    const entry: CodeEntry = ERROR_CODES[code];
    this.name = 'SpookyError';
    this.code = code;
    this.source = entry.source;
    this.retry = entry.retry;
    this.httpStatus = entry.httpStatus;
  }

  get outcome(): string {
    return ERROR_CODES[this.code].outcome;
  }
}

/** The funnel's first step: anything thrown becomes a SpookyError (unknown → `internal`). */
export function toSpookyError(err: unknown): SpookyError {
  if (err instanceof SpookyError) return err;
  return new SpookyError('internal', 'unexpected error', { cause: err });
}

export function isSpookyError(err: unknown): err is SpookyError {
  return err instanceof SpookyError;
}

/**
 * The error an aborted request signal stands for: the reason itself when it is a SpookyError
 * (the request deadline, a body over its limit), else the client went away.
 */
export function abortError(signal: { readonly reason: unknown }): SpookyError {
  const reason: unknown = signal.reason;
  return reason instanceof SpookyError ? reason : new SpookyError('client_aborted', 'client aborted');
}
