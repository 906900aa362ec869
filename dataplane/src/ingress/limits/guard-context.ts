/** What every connection guard (TCP and QUIC) of one listener shares. */
import type { ConnectionAdmission } from './connection-admission.ts';
import type { ConnectionEvents } from './connection-metrics.ts';

export interface GuardContext {
  /** Shared by every listener of the process; its `limits` are the current generation's. */
  readonly admission: ConnectionAdmission;
  readonly events: ConnectionEvents;
  /** `address:port` for metric labels (the port is known only once bound). */
  readonly label: () => string;
}
