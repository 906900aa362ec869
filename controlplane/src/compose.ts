/**
 * Wires the use cases over one opened store: the composition shared by main.ts and the
 * in-process test kit, so both run exactly the same graph. `recorder` is what the gRPC
 * distribution server must be given (it keeps node records, history, events, LKG and failed
 * marks in step, and feeds the rollout driver); `assignments` and `health` too (staged
 * rollouts); `api` is the store-backed part of ApiDeps. The rollout driver is built here but
 * started by the caller (`rolloutDriver.start()` once, before serving; `stop()` on shutdown):
 * the start resumes live rollouts and carries out effects a crash left pending.
 */
import type { ApiDeps } from './api/api-deps.ts';
import type { HealthSink, NodeAssignments } from './distribution/ports.ts';
import { ActiveService } from './generations/active-service.ts';
import { FleetService } from './generations/fleet-service.ts';
import { GenerationFailureMarker } from './generations/generation-failure-marker.ts';
import { GenerationService } from './generations/generation-service.ts';
import type { LifecycleRecorder } from './generations/lifecycle-recorder.ts';
import type { Clock } from './generations/ports.ts';
import { type DriverLogger, RolloutDriver, type Scheduler } from './rollout/rollout-driver.ts';
import { StoreRolloutFacts } from './rollout/rollout-facts.ts';
import { RolloutFeedingRecorder } from './rollout/rollout-feeding-recorder.ts';
import { RolloutPolicyService } from './rollout/rollout-policy-service.ts';
import { RolloutService } from './rollout/rollout-service.ts';
import type { SqliteStore } from './store/open-store.ts';

export interface ComposeOptions {
  readonly clock?: Clock;
  /** Report interval asked of data planes; the fleet view's stale threshold is 3×. */
  readonly reportIntervalMs: number;
  /** Receives errors thrown by active-changed listeners (the move stays committed). */
  readonly onListenerError?: (err: unknown) => void;
  /** Where the rollout driver logs what its timers and effects threw. */
  readonly rolloutLogger?: DriverLogger;
  /** The rollout driver's timers (tests pass a manual one). */
  readonly scheduler?: Scheduler;
}

export interface ControlPlaneCore {
  readonly generations: GenerationService;
  readonly active: ActiveService;
  readonly recorder: LifecycleRecorder;
  readonly fleet: FleetService;
  readonly rolloutPolicies: RolloutPolicyService;
  readonly rollouts: RolloutService;
  readonly rolloutDriver: RolloutDriver;
  /** For createDistributionServer: the live rollouts' per-node assignments. */
  readonly assignments: NodeAssignments;
  /** For createDistributionServer: stores Report health windows and feeds the driver. */
  readonly health: HealthSink;
  readonly api: Pick<
    ApiDeps,
    'generations' | 'active' | 'fleet' | 'rolloutPolicies' | 'rollouts' | 'audit' | 'events' | 'idempotency' | 'clock'
  >;
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
  // Built below; the recorder's callback runs only once distribution reports a fact.
  let driver: RolloutDriver | null = null;
  const recorder: LifecycleRecorder = new RolloutFeedingRecorder(
    {
      registry: store.nodes,
      repo: store.generations,
      lifecycle: store.lifecycle,
      history: store.nodeHistory,
      events: store.events,
      audit: store.audit,
      clock,
    },
    {
      onFacts: (scope) => driver?.factsChanged(scope),
      onError: (err) => options.rolloutLogger?.error({ err }, 'rollout driver: facts notification failed'),
    },
  );
  active.onActiveChanged((scope) => recorder.reevaluate(scope));
  const fleet = new FleetService({
    nodes: store.nodes,
    history: store.nodeHistory,
    active,
    clock,
    reportIntervalMs: options.reportIntervalMs,
  });
  const rolloutPolicies = new RolloutPolicyService({ repo: store.rollouts, audit: store.audit, clock });
  const failures = new GenerationFailureMarker({
    repo: store.generations,
    lifecycle: store.lifecycle,
    audit: store.audit,
    events: store.events,
    clock,
  });
  const rolloutDriver = new RolloutDriver({
    repo: store.rollouts,
    facts: new StoreRolloutFacts({
      nodes: store.nodes,
      history: store.nodeHistory,
      health: store.healthWindows,
      digestOf: (scope, seq) => store.generations.getGeneration(scope, seq)?.digest ?? null,
    }),
    actions: {
      activate: (scope, seq, actor, reason) => {
        const current = active.getActive(scope);
        if (current?.seq === seq) return;
        active.activate(scope, seq, current?.version ?? 0, { actor, reason });
      },
      markFailed: (scope, seq, actor, reason) => {
        failures.markFailed(scope, seq, actor, reason);
      },
    },
    clock,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.rolloutLogger ? { logger: options.rolloutLogger } : {}),
  });
  driver = rolloutDriver;
  const rollouts = new RolloutService({
    repo: store.rollouts,
    driver: rolloutDriver,
    generations: store.generations,
    active,
    nodes: store.nodes,
    audit: store.audit,
    clock,
  });
  const health: HealthSink = {
    windows: (nodeId, scope, windows, at) => {
      store.healthWindows.windows(nodeId, scope, windows, at);
      rolloutDriver.factsChanged(scope);
    },
  };
  return {
    generations,
    active,
    recorder,
    fleet,
    rolloutPolicies,
    rollouts,
    rolloutDriver,
    assignments: rolloutDriver,
    health,
    api: {
      generations,
      active,
      fleet,
      rolloutPolicies,
      rollouts,
      audit: store.audit,
      events: store.events,
      idempotency: store.idempotency,
      clock,
    },
  };
}
