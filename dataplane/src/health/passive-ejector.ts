/**
 * Passive ejection, for backends without a `health_check`: real traffic is the probe. The
 * attempt loop reports every try's outcome; the HealthMonitor feeds them through the same
 * state machine (health-state.ts) with PASSIVE_POLICY:
 *
 *   3 consecutive failures (5xx, timeout, connect/transport, TLS) → ejected for 10 s →
 *   optimistic re-admission (Probing takes traffic again): the first success keeps it in
 *   (→ Healthy), a failure ejects it again for another 10 s.
 *
 * Pure: the classification of one traffic outcome.
 */
import type { ErrorCode } from '../errors.ts';
import type { HealthPolicy, HealthVerdict } from './health-state.ts';

export const PASSIVE_POLICY: HealthPolicy = { failureThreshold: 3, successThreshold: 1, cooldownMs: 10_000 };

/** What happened to one attempt on one backend, as far as health is concerned. */
export type TrafficOutcome =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'error'; readonly code: ErrorCode };

const FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'upstream_connect_failed',
  'upstream_tls_failed',
  'upstream_timeout',
  'upstream_protocol_error',
  'upstream_reset',
]);

/**
 * A response head: 5xx failure, 4xx neutral (the client's problem), else success. An error:
 * upstream transport failures fail; anything else (client abort, internal) says nothing
 * about the backend.
 */
export function classifyTraffic(outcome: TrafficOutcome): { readonly verdict: HealthVerdict; readonly detail: string } {
  if (outcome.kind === 'error') {
    return FAILURE_CODES.has(outcome.code) ? { verdict: 'failure', detail: outcome.code } : { verdict: 'neutral', detail: outcome.code };
  }
  const s = outcome.status;
  if (s >= 500) return { verdict: 'failure', detail: `status ${s}` };
  if (s >= 400) return { verdict: 'neutral', detail: `status ${s}` };
  return { verdict: 'success', detail: `status ${s}` };
}
