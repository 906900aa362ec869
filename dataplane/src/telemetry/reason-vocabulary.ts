/**
 * The data plane's closed reason vocabulary, from one place: the values the access log writes
 * and the metric families label with. Metrics and logs read the same event field (the
 * RequestEndEvent `outcome`, `shed`, `retryRefusal`, `hedge`), so a value outside these lists is
 * a bug that reason-vocabulary.test.ts catches.
 *
 * Lists owned elsewhere are re-exported (their owners keep the meaning next to the code that
 * decides them); lists owned by no single feature live here. Nothing here runs per request: the
 * hot path writes plain strings taken from these lists; the sets below are for tests, docs and
 * label pre-registration.
 */
import { ERROR_CODES } from '../errors.ts';
import { HEDGE_RESULTS } from '../resilience/hedge-results.ts';
import { RATE_LIMITED_REASON, RETRY_REFUSALS, SHED_REASONS } from '../resilience/reasons.ts';

export { HEDGE_RESULTS, RATE_LIMITED_REASON, RETRY_REFUSALS, SHED_REASONS };

/**
 * Why ingress answered a request head itself (400, `spooky-reason: <value>`): RFC 9114 §4.3.1 /
 * RFC 9113 §8.3.1 pseudo-header rules and field syntax (ingress/h3/request-head.ts).
 */
export const HEAD_REJECTIONS = [
  'pseudo_header_duplicate',
  'pseudo_header_missing',
  'pseudo_header_unknown',
  'pseudo_header_after_regular',
  'path_invalid',
  'scheme_invalid',
  'header_name_invalid',
  'header_value_invalid',
] as const;
export type HeadRejection = (typeof HEAD_REJECTIONS)[number];

/**
 * Every reason ingress answers a request with before the pipeline (ingress/ingress-reject.ts):
 * a head rejection, or
 *  - `bad_upgrade`: an HTTP/1.1 Upgrade other than websocket (400);
 *  - `client_cert_required`: an HTTP/3 request on a listener that requires client certificates (421);
 *  - `malformed_request`: node's HTTP/1.1 parser refused the bytes (400: bad request line,
 *    framing, smuggling shapes);
 *  - `headers_too_large`: the HTTP/1.1 head exceeded node's header size limit (431);
 *  - `body_too_large`: chunk extensions over node's limit (413);
 *  - `client_headers_timeout`: the HTTP/1.1 head did not arrive within the headers timeout (408).
 */
export const INGRESS_REJECTIONS = [
  ...HEAD_REJECTIONS,
  'bad_upgrade',
  'client_cert_required',
  'malformed_request',
  'headers_too_large',
  'body_too_large',
  'client_headers_timeout',
] as const;
export type IngressRejection = (typeof INGRESS_REJECTIONS)[number];

/** The RequestEndEvent outcome of an ingress rejection: `timeout:` for the timeout, else `rejected:<reason>`. */
export function ingressOutcome(reason: IngressRejection): string {
  return reason === 'client_headers_timeout' ? 'timeout:client_headers' : `rejected:${reason}`;
}

/**
 * Outcomes set by code outside the error table: a stream failing after the response head
 * (streaming/stream-response.ts) and a tunnel ending idle (tunnel/run-tunnel.ts).
 */
export const LATE_OUTCOMES = ['upstream:body_timeout', 'upstream:reset_after_head', 'timeout:tunnel_idle'] as const;

/**
 * Every `outcome` a RequestEndEvent can carry (access log `outcome`, the `outcome` label of
 * spooky_requests_total): `ok`; each SpookyError code's outcome (errors.ts); `rejected:<code>`
 * of a stage's local reply (SHED_REASONS, `rate_limited`); the late outcomes; the ingress
 * rejections.
 */
export const REQUEST_OUTCOMES: readonly string[] = Object.freeze([
  ...new Set<string>([
    'ok',
    ...Object.values(ERROR_CODES).map((entry) => entry.outcome),
    ...SHED_REASONS.map((reason) => `rejected:${reason}`),
    `rejected:${RATE_LIMITED_REASON}`,
    ...LATE_OUTCOMES,
    ...INGRESS_REJECTIONS.map(ingressOutcome),
  ]),
]);

/** Nack phases on the wire (control/push-answer.ts): the applier's three plus the three owned by control/. */
export const NACK_PHASES = ['transfer', 'digest', 'parse', 'compile', 'apply', 'canary'] as const;
export type NackPhase = (typeof NACK_PHASES)[number];
