/**
 * Wires the use cases over one opened store: the composition shared by main.ts and the
 * in-process test kit, so both run exactly the same graph. `recorder` is what the gRPC
 * distribution server must be given (it keeps node records, history, events, LKG and failed
 * marks in step); `api` is the store-backed part of ApiDeps.
 */
import type { ApiDeps } from './api/api-deps.ts';
import { ActiveService } from './generations/active-service.ts';
import { FleetService } from './generations/fleet-service.ts';
import { GenerationService } from './generations/generation-service.ts';
import { LifecycleRecorder } from './generations/lifecycle-recorder.ts';
import type { Clock } from './generations/ports.ts';
import { RolloutPolicyService } from './rollout/rollout-policy-service.ts';
import type { SqliteStore } from './store/open-store.ts';

export interface ComposeOptions {
  readonly clock?: Clock;
  /** Report interval asked of data planes; the fleet view's stale threshold is 3×. */
  readonly reportIntervalMs: number;
  /** Receives errors thrown by active-changed listeners (the move stays committed). */
  readonly onListenerError?: (err: unknown) => void;
}

export interface ControlPlaneCore {
  readonly generations: GenerationService;
  readonly active: ActiveService;
  readonly recorder: LifecycleRecorder;
  readonly fleet: FleetService;
  readonly rolloutPolicies: RolloutPolicyService;
  readonly api: Pick<ApiDeps, 'generations' | 'active' | 'fleet' | 'rolloutPolicies' | 'audit' | 'events' | 'idempotency' | 'clock'>;
}

export function composeControlPlane(store: SqliteStore, options: ComposeOptions): ControlPlaneCore {
  const clock = options.clock ?? { now: () => new Date() };
  const base = { repo: store.generations, audit: store.audit, clock, events: store.events };
  const generations = new GenerationService(base);
  const active = new ActiveService({
    ...base,
    lifecycle: store.lifecycle,
    nodes: store.nodes,
    ...(options.onListenerError ? { onListenerError: options.onListenerError } : {}),
  });
  const recorder = new LifecycleRecorder({
    registry: store.nodes,
    repo: store.generations,
    lifecycle: store.lifecycle,
    history: store.nodeHistory,
    events: store.events,
    audit: store.audit,
    clock,
  });
  active.onActiveChanged((scope) => recorder.reevaluate(scope));
  const fleet = new FleetService({
    nodes: store.nodes,
    history: store.nodeHistory,
    active,
    clock,
    reportIntervalMs: options.reportIntervalMs,
  });
  const rolloutPolicies = new RolloutPolicyService({ repo: store.rollouts, audit: store.audit, clock });
  return {
    generations,
    active,
    recorder,
    fleet,
    rolloutPolicies,
    api: {
      generations,
      active,
      fleet,
      rolloutPolicies,
      audit: store.audit,
      events: store.events,
      idempotency: store.idempotency,
      clock,
    },
  };
}
