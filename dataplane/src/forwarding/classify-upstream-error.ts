/**
 * Pure mapping from a transport failure (undici / node:net / node:tls error) to a SpookyError
 * code. Looks at `code` along the `cause` chain, never at message text. The original error is
 * kept as `cause` for logs; clients only ever see the code.
 */
import { type ErrorCode, SpookyError } from '../errors.ts';

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/**
 * A connection that broke. Before the request was written to it (undici's onRequestStart)
 * this is still a failure to connect; once request bytes went out it is a reset: the
 * backend may have seen (part of) the request, which is what retry policy must know.
 */
const BROKEN_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** Certificate verification failures reported by OpenSSL through node:tls. */
const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_');
}

/** Codes found on `err` and its causes, outermost first (bounded depth). */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * The code for a transport failure. `requestSent`: undici had started writing the request
 * to a connection (default false: nothing left this process yet).
 */
export function upstreamErrorCode(err: unknown, requestSent = false): ErrorCode {
  const codes = codesOf(err);
  if (codes.some(isTlsCode)) return 'upstream_tls_failed';
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return 'upstream_timeout';
  if (codes.some((c) => CONNECT_CODES.has(c))) return 'upstream_connect_failed';
  if (codes.some((c) => BROKEN_CODES.has(c))) return requestSent ? 'upstream_reset' : 'upstream_connect_failed';
  return 'upstream_protocol_error';
}

/** Wraps a transport failure; SpookyErrors (e.g. our own client-abort reason) pass through. */
export function classifyUpstreamError(err: unknown, requestSent = false): SpookyError {
  if (err instanceof SpookyError) return err;
  const code = upstreamErrorCode(err, requestSent);
  return new SpookyError(code, `upstream ${code}`, { cause: err });
}
