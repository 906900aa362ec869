/**
 * The health state machine of one backend, pure (no clock, no timers: `now` is passed in).
 *
 *   Healthy ──(failureThreshold consecutive failures)──▶ Unhealthy (for cooldownMs)
 *   Unhealthy ──(cooldown elapsed; every result ignored until then)──▶ Probing
 *   Probing ──(successThreshold consecutive successes)──▶ Healthy
 *   Probing ──(one failure)──▶ Unhealthy (a new cooldown)
 *
 * A `neutral` result (e.g. a 4xx probe answer) changes nothing, not even the counters.
 * Active checks and passive ejection share this machine with different policies; whether a
 * Probing backend takes traffic is the caller's choice (see health-monitor.ts).
 */

export type HealthStatus = 'healthy' | 'unhealthy' | 'probing';

/** What one observation (probe or traffic outcome) says about the backend. */
export type HealthVerdict = 'success' | 'failure' | 'neutral';

export interface HealthPolicy {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly cooldownMs: number;
}

export interface HealthState {
  readonly status: HealthStatus;
  /** Consecutive failures while Healthy (reset by a success). */
  readonly failures: number;
  /** Consecutive successes while Probing. */
  readonly successes: number;
  /** While Unhealthy: the time the cooldown ends; 0 otherwise. */
  readonly unhealthyUntil: number;
}

/** Closed vocabulary of why a transition happened. */
export type TransitionReason = 'failure_threshold' | 'cooldown_elapsed' | 'success_threshold' | 'failed_while_probing';

export interface HealthTransition {
  readonly from: HealthStatus;
  readonly to: HealthStatus;
  readonly reason: TransitionReason;
}

export interface HealthStep {
  readonly state: HealthState;
  /** In order; empty when the status did not change (at most two: cooldown end, then a result). */
  readonly transitions: readonly HealthTransition[];
}

/** Every backend starts Healthy: a new backend takes traffic until evidence says otherwise. */
export function initialHealthState(): HealthState {
  return { status: 'healthy', failures: 0, successes: 0, unhealthyUntil: 0 };
}

function unhealthy(now: number, policy: HealthPolicy): HealthState {
  return { status: 'unhealthy', failures: 0, successes: 0, unhealthyUntil: now + policy.cooldownMs };
}

/** Moves Unhealthy → Probing once the cooldown has elapsed at `now`; otherwise unchanged. */
export function advanceHealth(state: HealthState, now: number): HealthStep {
  if (state.status !== 'unhealthy' || now < state.unhealthyUntil) return { state, transitions: [] };
  return {
    state: { status: 'probing', failures: 0, successes: 0, unhealthyUntil: 0 },
    transitions: [{ from: 'unhealthy', to: 'probing', reason: 'cooldown_elapsed' }],
  };
}

/** Applies one observation made at `now` (after ending an elapsed cooldown). */
export function observeHealth(state: HealthState, verdict: HealthVerdict, now: number, policy: HealthPolicy): HealthStep {
  const advanced = advanceHealth(state, now);
  const step = applyVerdict(advanced.state, verdict, now, policy);
  return { state: step.state, transitions: [...advanced.transitions, ...step.transitions] };
}

function applyVerdict(state: HealthState, verdict: HealthVerdict, now: number, policy: HealthPolicy): HealthStep {
  if (verdict === 'neutral' || state.status === 'unhealthy') return { state, transitions: [] };
  if (state.status === 'healthy') {
    if (verdict === 'success') return { state: state.failures === 0 ? state : { ...state, failures: 0 }, transitions: [] };
    const failures = state.failures + 1;
    if (failures < policy.failureThreshold) return { state: { ...state, failures }, transitions: [] };
    return { state: unhealthy(now, policy), transitions: [{ from: 'healthy', to: 'unhealthy', reason: 'failure_threshold' }] };
  }
  // probing
  if (verdict === 'failure') {
    return { state: unhealthy(now, policy), transitions: [{ from: 'probing', to: 'unhealthy', reason: 'failed_while_probing' }] };
  }
  const successes = state.successes + 1;
  if (successes < policy.successThreshold) return { state: { ...state, successes }, transitions: [] };
  return { state: initialHealthState(), transitions: [{ from: 'probing', to: 'healthy', reason: 'success_threshold' }] };
}

/** The result of one active probe, as the Prober reports it. */
export type ProbeResult =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'error'; readonly code: string };

/** 2xx/3xx success; 4xx neutral (the backend answers, the probe path may be wrong); 5xx, other statuses, timeout and transport failures fail. */
export function classifyProbe(result: ProbeResult): { readonly verdict: HealthVerdict; readonly detail: string } {
  switch (result.kind) {
    case 'timeout':
      return { verdict: 'failure', detail: 'timeout' };
    case 'error':
      return { verdict: 'failure', detail: `transport ${result.code}` };
    case 'response': {
      const s = result.status;
      if (s >= 200 && s < 400) return { verdict: 'success', detail: `status ${s}` };
      if (s >= 400 && s < 500) return { verdict: 'neutral', detail: `status ${s}` };
      return { verdict: 'failure', detail: `status ${s}` };
    }
  }
}
