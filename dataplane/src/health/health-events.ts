/**
 * Health telemetry contract: the HealthMonitor publishes on node:diagnostics_channel;
 * observability/ (metrics, the "health transition" log line) subscribes.
 */
import { channel } from 'node:diagnostics_channel';
import { CHANNELS } from '../telemetry/channel-names.ts';
import type { HealthStatus, TransitionReason } from './health-state.ts';

/** One status change of one backend. */
export interface HealthTransitionEvent {
  readonly upstream: string;
  /** Backend id (from the config). */
  readonly backend: string;
  readonly address: string;
  readonly from: HealthStatus;
  readonly to: HealthStatus;
  readonly reason: TransitionReason;
  /** The observation that caused it, e.g. `status 503`, `timeout`, `transport ECONNREFUSED`. */
  readonly detail: string;
  /** Whether the backend takes traffic after the change. */
  readonly available: boolean;
  readonly mode: 'active' | 'passive';
}

/** A backend starts or stops being tracked (a generation names it / no longer does). */
export interface HealthMembershipEvent {
  readonly upstream: string;
  readonly backend: string;
  readonly address: string;
  readonly change: 'added' | 'removed';
  readonly available: boolean;
}

export const healthTransitionChannel = channel(CHANNELS.healthTransition);
export const healthMembershipChannel = channel(CHANNELS.healthMembership);

export function publishHealthTransition(event: HealthTransitionEvent): void {
  if (healthTransitionChannel.hasSubscribers) healthTransitionChannel.publish(event);
}

export function publishHealthMembership(event: HealthMembershipEvent): void {
  if (healthMembershipChannel.hasSubscribers) healthMembershipChannel.publish(event);
}
