/**
 * HealthSpec: what a generation says about one backend's health checking (built by compile/),
 * and healthKey, the identity the HealthMonitor tracks it under. Both are re-exported by
 * health-monitor.ts, the module the rest of the data plane imports them from.
 */
import type { HealthCheck } from '@spooky/config';
import type { ProbeTransportSettings } from './prober.ts';

/** What a generation says about one backend's health checking (built by compile/). */
export interface HealthSpec {
  readonly upstream: string;
  readonly backendId: string;
  /** Canonical `http(s)://host:port`. */
  readonly address: string;
  /** null: passive ejection. */
  readonly check: HealthCheck | null;
  readonly transport: ProbeTransportSettings;
}

/** One backend's identity across generations: upstream name + backend address. */
export function healthKey(upstream: string, address: string): string {
  return `${upstream}\u0000${address}`;
}
