/**
 * Brownout: under sustained pressure, shed requests to non-core upstreams so core ones keep
 * their capacity. Pressure = global in-flight ÷ global limit, in percent. It turns on at
 * ≥ `trigger_inflight_percent` and off again only at ≤ `recover_inflight_percent` (hysteresis:
 * no flapping around one threshold). Core upstreams (`core_routes`) are never shed; ours: off
 * by default, and an empty core list sheds nothing (there is nothing to protect). While active,
 * hedging is off (`active`).
 *
 * admitRequest calls `observe(inflight, limit)` for each routed request (only when enabled)
 * and then `shed(upstream)` to ask.
 * Cost: one division and a Set lookup, no allocation.
 */
import type { BrownoutPolicy } from '@spooky/config';
import type { ShedReason } from './reasons.ts';

export class Brownout {
  #policy: BrownoutPolicy;
  #core: ReadonlySet<string>;
  #active = false;

  constructor(policy: BrownoutPolicy) {
    this.#policy = policy;
    this.#core = new Set(policy.core_routes);
  }

  reconfigure(policy: BrownoutPolicy): void {
    this.#policy = policy;
    this.#core = new Set(policy.core_routes);
    if (!policy.enabled) this.#active = false;
  }

  get enabled(): boolean {
    return this.#policy.enabled;
  }

  /** True while shedding (hedging is off meanwhile). */
  get active(): boolean {
    return this.#active;
  }

  /** Feeds the current pressure; returns whether brownout is active afterwards. */
  observe(inflight: number, limit: number): boolean {
    if (!this.#policy.enabled || limit <= 0) {
      this.#active = false;
      return false;
    }
    const percent = (inflight * 100) / limit;
    if (!this.#active && percent >= this.#policy.trigger_inflight_percent) this.#active = true;
    else if (this.#active && percent <= this.#policy.recover_inflight_percent) this.#active = false;
    return this.#active;
  }

  /** `brownout` when a request to `upstream` is to be shed now; null otherwise. */
  shed(upstream: string): ShedReason | null {
    if (!this.#active || this.#core.size === 0 || this.#core.has(upstream)) return null;
    return 'brownout';
  }
}
