/**
 * Refused node authentications of one distribution server, exported when a prom-client registry
 * is given (scopes are the asked-for ones, node ids churn so they are not labels):
 *   spooky_cp_node_auth_failures_total{reason}  Hellos refused with PERMISSION_DENIED, by
 *       reason (no_certificate, bad_identity, scope_not_allowed, node_id_mismatch)
 * Handshake failures (unknown issuer, expired certificate, none at all) end before gRPC sees a
 * call and are not counted here.
 */
import { Counter, type Registry } from 'prom-client';
import type { NodeAuthReason } from './node-identity.ts';

const NAME = 'spooky_cp_node_auth_failures_total';
/** Every reason is exported from the start (at 0), so an alert on its rate has a series to watch. */
const REASONS: readonly NodeAuthReason[] = ['no_certificate', 'bad_identity', 'scope_not_allowed', 'node_id_mismatch'];

/** Counts one refusal; a no-op without a registry. One counter per registry, shared by servers on it. */
export function nodeAuthFailureCounter(registry?: Registry): (reason: NodeAuthReason) => void {
  if (!registry) return () => {};
  const existing = registry.getSingleMetric(NAME);
  const counter =
    existing instanceof Counter
      ? (existing as Counter<'reason'>)
      : new Counter({ name: NAME, help: 'ConfigSync Hellos refused for the client certificate, by reason', labelNames: ['reason'] as const, registers: [registry] });
  for (const reason of REASONS) counter.inc({ reason }, 0);
  return (reason) => counter.inc({ reason });
}
