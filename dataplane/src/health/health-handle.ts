/**
 * HealthHandle: one backend's availability as the request path reads it, resolved once per
 * generation (compile/ asks HealthMonitor.handle(upstream, address) for each backend and keeps
 * the handle), so filtering candidates is a loop over booleans — no key strings, no map
 * lookups per request.
 *
 * Contract:
 * - `available` is true while the backend may take traffic as far as health knows. The
 *   monitor keeps it in step with the backend's state (Healthy, or Probing under passive
 *   ejection). A backend not (yet) tracked is available.
 * - When `available` is false the reader calls `recheck()` before leaving the backend out:
 *   it does what HealthMonitor.isAvailable does (ends an elapsed cooldown at the current
 *   time, then answers), so a request arriving after the cooldown but before its timer fired
 *   sees the backend exactly as the string lookup would.
 * - A handle whose backend the monitor stopped tracking (dropped by reconcile, or monitor
 *   closed) is detached: `available` is false for good and `recheck()` answers by key from the
 *   monitor's current state. Generations compiled before the drop stay correct, at the cost of
 *   one map lookup for that backend.
 * One handle per (upstream, address) at a time; it survives generation swaps with the state.
 */

/** Answers availability for a handle's key (HealthMonitor's lookup, after advancing a cooldown). */
export type HealthRecheck = (key: string) => boolean;

export class HealthHandle {
  /** healthKey(upstream, address). */
  readonly key: string;
  /** See the contract above; written only by HealthMonitor. */
  available = true;
  readonly #recheck: HealthRecheck;

  constructor(key: string, recheck: HealthRecheck) {
    this.key = key;
    this.#recheck = recheck;
  }

  /** The availability now (call when `available` is false): may end an elapsed cooldown. */
  recheck(): boolean {
    return this.available || this.#recheck(this.key);
  }
}
