/**
 * screenRequest stage: refuses requests the proxy must not forward, before any routing work.
 *   method not a token                   → 400 bad_method
 *   CONNECT, TRACE, TRACK (any case)     → 405 method_not_allowed (no `Allow`: a reverse
 *                                          proxy does not know what the origin allows);
 *                                          CONNECT passes only as a tunnel request: an
 *                                          HTTP/1.1 CONNECT with
 *                                          `resilience.protocol.allow_connect: true`, or an
 *                                          RFC 8441 WebSocket (HTTP/2 `:protocol websocket`)
 *   header count / bytes over limits     → 431 headers_too_large
 *   unsafe path (path-safety.ts)         → 400 bad_path
 *   several Host headers                 → 400 bad_header
 *   malformed `:authority` / Host, or
 *   neither present (https requires one) → 400 bad_host
 *   `:authority` and Host disagree       → 400 authority_mismatch
 *   invalid content-length               → 400 bad_content_length
 *   declared content-length over max     → 413 body_too_large
 * Sets ctx.host (normalised `:authority`, else Host). Limits come from the pinned generation's
 * `performance` section.
 */
import { SpookyError } from '../errors.ts';
import type { HeaderList } from '../http/exchange.ts';
import { normalizeRequestHost, requestHostProblem } from '../http/request-host.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { CONTINUE, type Stage, type StageResult } from '../pipeline/stage.ts';
import { pathProblem } from './path-safety.ts';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * Never forwarded: CONNECT would tunnel, TRACE/TRACK echo the request (credentials included)
 * back. Compared case-insensitively because some origins match methods that way.
 */
const REFUSED_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

export const screenRequest: Stage = {
  name: 'screenRequest',
  run(ctx: RequestContext): StageResult {
    const { head } = ctx.exchange;
    const perf = ctx.generation.config.performance;
    if (!TOKEN.test(head.method)) throw new SpookyError('bad_method');
    if (REFUSED_METHODS.has(head.method.toUpperCase()) && !connectAllowed(ctx)) throw new SpookyError('method_not_allowed');

    if (head.headers.length > perf.max_request_headers) throw new SpookyError('headers_too_large');
    let bytes = head.method.length + head.path.length + (head.authority?.length ?? 0);
    for (const [name, value] of head.headers) bytes += name.length + value.length;
    if (bytes > perf.max_request_header_bytes) throw new SpookyError('headers_too_large');

    if (pathProblem(head.path) !== null) throw new SpookyError('bad_path');

    // One pass for the Host header(s) and whether a content-length came (no lists built).
    let hostCount = 0;
    let host: string | null = null;
    let lengthSeen = false;
    for (const entry of head.headers) {
      const name = entry[0];
      if (name === 'host') {
        if (hostCount++ === 0) host = entry[1];
      } else if (name === 'content-length') lengthSeen = true;
    }
    if (hostCount > 1) throw new SpookyError('bad_header', 'several host headers');
    if (host === null && head.authority === null) throw new SpookyError('bad_host', 'no host');
    if (host !== null && requestHostProblem(host) !== null) throw new SpookyError('bad_host', 'malformed host header');
    if (head.authority !== null && requestHostProblem(head.authority) !== null) throw new SpookyError('bad_host', 'malformed authority');
    const hostHeader = host === null ? null : normalizeRequestHost(host);
    const authority = head.authority === null ? null : normalizeRequestHost(head.authority);
    if (authority !== null && hostCount === 1 && hostHeader !== authority) throw new SpookyError('authority_mismatch');
    ctx.host = authority ?? hostHeader;

    if (lengthSeen) {
      const declared = declaredLength(head.headers);
      if (declared === null) throw new SpookyError('bad_content_length');
      if (declared > perf.max_request_body_bytes) throw new SpookyError('body_too_large');
    }
    return CONTINUE;
  },
};

/**
 * A CONNECT that is a tunnel Spooky serves (only reached for refused methods: no cost
 * otherwise): an RFC 8441 WebSocket (always: it is a WebSocket, not a CONNECT tunnel), or an
 * HTTP/1.1 CONNECT the config allows.
 */
function connectAllowed(ctx: RequestContext): boolean {
  const tunnel = ctx.exchange.tunnel;
  if (ctx.exchange.head.method !== 'CONNECT' || tunnel === undefined) return false;
  return tunnel.kind === 'websocket' || ctx.generation.config.resilience.protocol.allow_connect;
}

const LENGTH = /^\d{1,15}$/;

/**
 * The one length all content-length values agree on, or null when invalid or conflicting.
 * A single value without a comma (the usual case) is checked without splitting it.
 */
function declaredLength(headers: HeaderList): number | null {
  let length: number | null = null;
  for (const [name, value] of headers) {
    if (name !== 'content-length') continue;
    if (value.indexOf(',') === -1) {
      length = agreed(length, value.trim());
      if (length === null) return null;
      continue;
    }
    for (const part of value.split(',')) {
      length = agreed(length, part.trim());
      if (length === null) return null;
    }
  }
  return length;
}

/** `text` as a length when it is 1–15 digits and equal to `length` (if any), else null. */
function agreed(length: number | null, text: string): number | null {
  if (!LENGTH.test(text)) return null;
  const n = Number(text);
  return length !== null && n !== length ? null : n;
}
