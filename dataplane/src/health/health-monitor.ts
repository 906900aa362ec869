/**
 * HealthMonitor: the health of every backend the served generation names, keyed by upstream
 * name + backend address. Owned by LongLivedState, so it survives generation swaps:
 *
 * - `reconcile(specs)` (run by LongLivedState.retain after a swap) starts tracking new
 *   backends (Healthy), keeps the state and running probes of backends still named, restarts
 *   the checker of a backend whose health_check (or TLS settings) changed while keeping its
 *   state, and drops backends no longer named (checker stopped, timers cancelled, probe pool
 *   closed).
 * - Backends with a health_check are probed (ActiveChecker); they take traffic only while
 *   Healthy. Backends without one are judged by their traffic (`reportTraffic`, passive
 *   ejection, PASSIVE_POLICY); they take traffic while Healthy or Probing (optimistic
 *   re-admission).
 * - A backend not (yet) tracked — e.g. new in a generation whose retain has not run — is
 *   available.
 *
 * Every status change is published on `spooky:health:transition`, every start/stop of
 * tracking on `spooky:health:membership` (health-events.ts).
 */
import { ActiveChecker } from './active-checker.ts';
import { availableIn, BackendEntry, policyOf } from './backend-entry.ts';
import { publishHealthMembership, publishHealthTransition } from './health-events.ts';
import { HealthHandle } from './health-handle.ts';
import { type HealthSpec, healthKey } from './health-spec.ts';
import { advanceHealth, type HealthStatus, type HealthStep, type HealthVerdict, observeHealth } from './health-state.ts';
import { classifyTraffic, type TrafficOutcome } from './passive-ejector.ts';
import type { ProberFactory, ProbeTransportSettings } from './prober.ts';
import { realScheduler, type Scheduler } from './scheduler.ts';

export type { HealthSpec } from './health-spec.ts';
export { healthKey } from './health-spec.ts';

/** The seam the request path uses (Generation.health). */
export interface HealthView {
  /** False while the backend is ejected (Unhealthy, or Probing under an active check). */
  isAvailable(upstream: string, address: string): boolean;
  /**
   * The backend's HealthHandle (health-handle.ts), created when first asked: compile/ resolves
   * it once per generation so the request path filters candidates on a boolean.
   */
  handle(upstream: string, address: string): HealthHandle;
  /** Tracked backends currently unavailable; 0 = every backend is available (no recheck needed). */
  readonly unavailableCount: number;
  /** One attempt's outcome; counts only for backends without a health_check. */
  reportTraffic(upstream: string, address: string, outcome: TrafficOutcome): void;
}

export interface BackendHealth {
  readonly upstream: string;
  readonly backend: string;
  readonly address: string;
  readonly mode: 'active' | 'passive';
  readonly status: HealthStatus;
  readonly available: boolean;
}

export interface HealthMonitorOptions {
  readonly createProber: ProberFactory;
  readonly scheduler?: Scheduler;
  /** Start jitter source, uniform in [0, 1). */
  readonly random?: () => number;
}

export class HealthMonitor implements HealthView {
  readonly #createProber: ProberFactory;
  readonly #scheduler: Scheduler;
  readonly #random: () => number;
  readonly #entries = new Map<string, BackendEntry>();
  /** Handles by healthKey: every tracked backend's, plus those compile/ asked for since the last reconcile. */
  readonly #handles = new Map<string, HealthHandle>();
  readonly #recheck = (key: string): boolean => this.#availableByKey(key);
  #unavailable = 0;
  #closed = false;

  constructor(options: HealthMonitorOptions) {
    this.#createProber = options.createProber;
    this.#scheduler = options.scheduler ?? realScheduler;
    this.#random = options.random ?? Math.random;
  }

  /** Makes the tracked set exactly `specs` (keyed by healthKey); resolves when dropped probe pools are closed. */
  reconcile(specs: ReadonlyMap<string, HealthSpec>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.#entries) {
      if (specs.has(key)) continue;
      this.#entries.delete(key);
      if (!entry.handle.available) this.#unavailable--;
      closing.push(entry.shutdown());
      publishHealthMembership({ ...entry.labels, change: 'removed', available: false });
    }
    for (const [key, spec] of specs) {
      const entry = this.#entries.get(key);
      if (entry === undefined) this.#add(key, spec);
      else closing.push(this.#update(entry, spec));
    }
    for (const [key, handle] of this.#handles) {
      if (specs.has(key)) continue;
      this.#handles.delete(key);
      handle.available = false; // detached: recheck() answers by key
    }
    return Promise.all(closing).then(() => undefined);
  }

  isAvailable(upstream: string, address: string): boolean {
    return this.#availableByKey(healthKey(upstream, address));
  }

  handle(upstream: string, address: string): HealthHandle {
    const key = healthKey(upstream, address);
    let handle = this.#handles.get(key);
    if (handle === undefined) {
      handle = new HealthHandle(key, this.#recheck);
      if (this.#closed) handle.available = false; // detached from the start: answers by key (available)
      else this.#handles.set(key, handle);
    }
    return handle;
  }

  /**
   * How many tracked backends are unavailable (their handle's flag is false). 0 means every
   * backend anywhere is available — CandidateFilter's O(1) shortcut.
   */
  get unavailableCount(): number {
    return this.#unavailable;
  }

  /** Keeps the entry's handle (and the unavailable count) in step with its state and mode. */
  #sync(entry: BackendEntry): void {
    const now = entry.available;
    if (entry.handle.available === now) return;
    entry.handle.available = now;
    this.#unavailable += now ? -1 : 1;
  }

  #availableByKey(key: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return true;
    // Only an Unhealthy backend can move on (its cooldown may have ended): the clock and the
    // step are skipped otherwise, where advanceHealth would change nothing.
    if (entry.state.status === 'unhealthy') this.#apply(entry, advanceHealth(entry.state, this.#scheduler.now()), 'cooldown elapsed');
    return entry.available;
  }

  reportTraffic(upstream: string, address: string, outcome: TrafficOutcome): void {
    const entry = this.#entries.get(healthKey(upstream, address));
    if (entry === undefined || entry.spec.check !== null) return;
    const { verdict, detail } = classifyTraffic(outcome);
    this.#observe(entry, verdict, detail);
  }

  /** Current view of every tracked backend, in tracking order. */
  snapshot(): BackendHealth[] {
    return [...this.#entries.values()].map((e) => ({ ...e.labels, mode: e.mode, status: e.state.status, available: e.available }));
  }

  /** Probe loops running (tests, diagnostics). */
  activeCheckers(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.checker !== null) n++;
    return n;
  }

  /**
   * Re-creates the probe pool of every actively checked backend whose address `matches`
   * (backend DNS refresh: the name now resolves elsewhere). Health state is kept; the checker
   * restarts on a fresh pool. Resolves when the old pools are closed.
   */
  renewProbers(matches: (address: string) => boolean): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.prober === null || !matches(entry.spec.address)) continue;
      entry.stopChecker();
      closing.push(entry.prober.close().catch(() => undefined));
      entry.prober = null;
      this.#startChecker(entry, key);
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Stops every checker and timer and closes every probe pool (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const handle of this.#handles.values()) handle.available = false;
    this.#handles.clear();
    this.#unavailable = 0;
    await Promise.all(entries.map((e) => e.shutdown()));
  }

  #add(key: string, spec: HealthSpec): void {
    let handle = this.#handles.get(key);
    if (handle === undefined) {
      handle = new HealthHandle(key, this.#recheck);
      this.#handles.set(key, handle);
    }
    const entry = new BackendEntry(spec, handle);
    this.#entries.set(key, entry);
    this.#sync(entry);
    publishHealthMembership({ ...entry.labels, change: 'added', available: true });
    this.#startChecker(entry, key);
  }

  /** Same backend in a new generation: keep state; restart the checker only if its settings changed. */
  #update(entry: BackendEntry, spec: HealthSpec): Promise<void> {
    const previous = entry.spec;
    if (previous.backendId !== spec.backendId) {
      publishHealthMembership({ ...entry.labels, change: 'removed', available: false });
      entry.spec = { ...previous, backendId: spec.backendId };
      publishHealthMembership({ ...entry.labels, change: 'added', available: entry.available });
    }
    const sameCheck = JSON.stringify(previous.check) === JSON.stringify(spec.check);
    const sameTransport = sameProbeTransport(previous.transport, spec.transport);
    entry.spec = spec;
    this.#sync(entry); // the mode (active/passive) may have changed
    if (sameCheck && (sameTransport || spec.check === null)) return Promise.resolve();
    entry.policy = policyOf(spec.check);
    entry.stopChecker();
    let closing = Promise.resolve();
    if (entry.prober !== null && (!sameTransport || spec.check === null)) {
      closing = entry.prober.close().catch(() => undefined);
      entry.prober = null;
    }
    this.#startChecker(entry, healthKey(spec.upstream, spec.address));
    return closing;
  }

  #startChecker(entry: BackendEntry, key: string): void {
    const check = entry.spec.check;
    if (check === null) return;
    entry.prober ??= this.#createProber(entry.spec.address, entry.spec.transport);
    const checker = new ActiveChecker({
      check,
      prober: entry.prober,
      scheduler: this.#scheduler,
      random: this.#random,
      onResult: (verdict, detail) => {
        if (this.#entries.get(key) === entry && entry.checker === checker) this.#observe(entry, verdict, detail);
      },
    });
    entry.checker = checker;
    checker.start();
  }

  #observe(entry: BackendEntry, verdict: HealthVerdict, detail: string): void {
    this.#apply(entry, observeHealth(entry.state, verdict, this.#scheduler.now(), entry.policy), detail);
  }

  /** Stores a step's state, publishes its transitions, (re)arms the cooldown timer. */
  #apply(entry: BackendEntry, step: HealthStep, detail: string): void {
    const before = entry.state;
    entry.state = step.state;
    this.#sync(entry);
    for (const t of step.transitions) {
      const isLast = t === step.transitions[step.transitions.length - 1];
      publishHealthTransition({
        ...entry.labels,
        from: t.from,
        to: t.to,
        reason: t.reason,
        detail: t.reason === 'cooldown_elapsed' ? 'cooldown elapsed' : detail,
        available: isLast ? entry.available : availableIn(entry.mode, t.to),
        mode: entry.mode,
      });
    }
    if (step.state === before) return;
    if (step.state.status === 'unhealthy' && step.state.unhealthyUntil !== before.unhealthyUntil) {
      const key = healthKey(entry.spec.upstream, entry.spec.address);
      // Makes the end of the cooldown visible (log, gauge) even when no request asks.
      entry.armCooldown(this.#scheduler, step.state.unhealthyUntil, () => {
        if (this.#entries.get(key) === entry) this.#apply(entry, advanceHealth(entry.state, this.#scheduler.now()), 'cooldown elapsed');
      });
    } else if (step.state.status !== 'unhealthy') {
      entry.cancelCooldown();
    }
  }
}

/**
 * Field by field, without serialising: the settings carry PEM text (CAs, a client certificate
 * and key) that a JSON.stringify per backend and reconcile would copy over and over.
 */
function sameProbeTransport(a: ProbeTransportSettings, b: ProbeTransportSettings): boolean {
  if (a === b) return true;
  const ca = a.clientCert ?? null;
  const cb = b.clientCert ?? null;
  return (
    a.connectTimeoutMs === b.connectTimeoutMs &&
    a.verifyCertificates === b.verifyCertificates &&
    a.ca === b.ca &&
    (a.serverName ?? null) === (b.serverName ?? null) &&
    (ca === cb || (ca !== null && cb !== null && ca.cert === cb.cert && ca.key === cb.key))
  );
}
