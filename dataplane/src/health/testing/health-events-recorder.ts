/** Collects health events published while a test runs (subscribe in before, stop in after). */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '../../telemetry/channel-names.ts';
import type { HealthMembershipEvent, HealthTransitionEvent } from '../health-events.ts';

export class HealthEventsRecorder {
  readonly transitions: HealthTransitionEvent[] = [];
  readonly membership: HealthMembershipEvent[] = [];
  readonly #onTransition = (m: unknown) => this.transitions.push(m as HealthTransitionEvent);
  readonly #onMembership = (m: unknown) => this.membership.push(m as HealthMembershipEvent);

  constructor() {
    subscribe(CHANNELS.healthTransition, this.#onTransition);
    subscribe(CHANNELS.healthMembership, this.#onMembership);
  }

  /** "backend:from>to" for each transition so far. */
  summary(): string[] {
    return this.transitions.map((t) => `${t.backend}:${t.from}>${t.to}`);
  }

  clear(): void {
    this.transitions.length = 0;
    this.membership.length = 0;
  }

  stop(): void {
    unsubscribe(CHANNELS.healthTransition, this.#onTransition);
    unsubscribe(CHANNELS.healthMembership, this.#onMembership);
  }
}
