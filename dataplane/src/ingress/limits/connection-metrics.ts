/**
 * What the connection guards report. Two families, registered on the data plane's registry
 * when one is given (a listener manager without a registry counts nothing):
 *
 * - spooky_connections_rejected_total{listener,reason}  counter: a new connection closed at
 *   once by admission (reason: max_connections_per_ip | max_active_connections | rate_limited)
 * - spooky_connections_closed_total{listener,reason}    counter: an open connection closed by
 *   a limit (reason: tls_handshake_timeout | header_timeout | idle_timeout | no_stream_timeout
 *   | h2_rapid_reset)
 *
 * `listener` is `address:port` of the listener that accepted the connection.
 */
import { Counter, type Registry } from 'prom-client';
import type { RejectReason } from './connection-admission.ts';

export type CloseReason = 'tls_handshake_timeout' | 'header_timeout' | 'idle_timeout' | 'no_stream_timeout' | 'h2_rapid_reset';

export interface ConnectionEvents {
  rejected(listener: string, reason: RejectReason): void;
  closed(listener: string, reason: CloseReason): void;
}

export const NO_CONNECTION_EVENTS: ConnectionEvents = { rejected() {}, closed() {} };

export function createConnectionMetrics(registry: Registry): ConnectionEvents {
  const rejected = new Counter({
    name: 'spooky_connections_rejected_total',
    help: 'New client connections closed at once by admission, by listener and reason.',
    labelNames: ['listener', 'reason'] as const,
    registers: [registry],
  });
  const closed = new Counter({
    name: 'spooky_connections_closed_total',
    help: 'Open client connections closed by a connection limit, by listener and reason.',
    labelNames: ['listener', 'reason'] as const,
    registers: [registry],
  });
  return {
    rejected: (listener, reason) => rejected.inc({ listener, reason }),
    closed: (listener, reason) => closed.inc({ listener, reason }),
  };
}
