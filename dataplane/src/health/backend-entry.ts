/**
 * BackendEntry: what HealthMonitor keeps for one tracked backend — its spec, its state in the
 * health machine (health-state.ts), the HealthHandle the request path reads, and what must be
 * released when tracking stops: the probe loop, the probe pool and the cooldown timer.
 * Created and mutated only by HealthMonitor.
 */
import type { HealthCheck } from '@spooky/config';
import type { ActiveChecker } from './active-checker.ts';
import type { HealthHandle } from './health-handle.ts';
import type { HealthSpec } from './health-spec.ts';
import { type HealthPolicy, type HealthState, type HealthStatus, initialHealthState } from './health-state.ts';
import { PASSIVE_POLICY } from './passive-ejector.ts';
import type { Prober } from './prober.ts';
import type { Scheduler, TimerHandle } from './scheduler.ts';

/** Active: judged by probes (spec has a health_check). Passive: judged by traffic. */
export type HealthMode = 'active' | 'passive';

/** The labels every health event and snapshot row carries. */
export interface BackendLabels {
  readonly upstream: string;
  readonly backend: string;
  readonly address: string;
}

export class BackendEntry {
  spec: HealthSpec;
  /** Mirrors `available` for the request path (HealthMonitor keeps it in step). */
  readonly handle: HealthHandle;
  policy: HealthPolicy;
  state: HealthState = initialHealthState();
  checker: ActiveChecker | null = null;
  prober: Prober | null = null;
  #cooldown: TimerHandle | null = null;

  /** Starts Healthy, with the policy of `spec`'s health_check (or passive ejection). */
  constructor(spec: HealthSpec, handle: HealthHandle) {
    this.spec = spec;
    this.handle = handle;
    this.policy = policyOf(spec.check);
  }

  get mode(): HealthMode {
    return this.spec.check === null ? 'passive' : 'active';
  }

  /** Whether the backend may take traffic in its current state and mode. */
  get available(): boolean {
    return availableIn(this.mode, this.state.status);
  }

  get labels(): BackendLabels {
    return { upstream: this.spec.upstream, backend: this.spec.backendId, address: this.spec.address };
  }

  /**
   * (Re)arms the cooldown timer: `onElapsed` runs once at scheduler time `at`, unless the
   * timer is re-armed or cancelled first.
   */
  armCooldown(scheduler: Scheduler, at: number, onElapsed: () => void): void {
    this.#cooldown?.cancel();
    this.#cooldown = scheduler.setTimer(() => {
      this.#cooldown = null;
      onElapsed();
    }, at - scheduler.now());
  }

  cancelCooldown(): void {
    this.#cooldown?.cancel();
    this.#cooldown = null;
  }

  /** Stops the probe loop (the prober stays open for a restarted one). */
  stopChecker(): void {
    this.checker?.stop();
    this.checker = null;
  }

  /** Stops the checker and the timer, closes the probe pool; never rejects. */
  shutdown(): Promise<void> {
    this.stopChecker();
    this.cancelCooldown();
    const prober = this.prober;
    this.prober = null;
    return prober === null ? Promise.resolve() : prober.close().catch(() => undefined);
  }
}

/** The state-machine policy of a health_check; passive ejection's when there is none. */
export function policyOf(check: HealthCheck | null): HealthPolicy {
  if (check === null) return PASSIVE_POLICY;
  return { failureThreshold: check.failure_threshold, successThreshold: check.success_threshold, cooldownMs: check.cooldown_ms };
}

/** Active checks gate re-admission on probes; passive ejection re-admits optimistically. */
export function availableIn(mode: HealthMode, status: HealthStatus): boolean {
  return status === 'healthy' || (status === 'probing' && mode === 'passive');
}
