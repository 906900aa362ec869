/**
 * Adaptive admission: a concurrency limit that shrinks by `decrease_step` for every upstream
 * latency sample above `high_latency_ms` and grows by `increase_step` for every other sample,
 * always within [min_limit, max_limit] (max_limit null → the global in-flight limit). It starts
 * at the maximum. ours: fed only by upstream latencies (`recordLatency`: admitRequest's release
 * passes, when a request ends, each of its tries that received a response head, dispatch →
 * head) — never by its own rejections, local replies or unroutable requests, so shedding cannot
 * feed on itself.
 *
 * `tryAcquire` / `release` count admitted requests; a request is refused (`admission_limit`)
 * while `active ≥ limit`. Disabled: always admits. Cost: compares and adds, no allocation.
 */
import type { AdaptiveAdmissionPolicy } from '@spooky/config';
import type { ShedReason } from './reasons.ts';

export class AdaptiveAdmission {
  #policy: AdaptiveAdmissionPolicy;
  #max: number;
  #limit: number;
  active = 0;

  constructor(policy: AdaptiveAdmissionPolicy, globalInflightLimit: number) {
    this.#policy = policy;
    this.#max = Math.max(policy.min_limit, policy.max_limit ?? globalInflightLimit);
    this.#limit = this.#max;
  }

  /** A new generation's policy: the current limit is kept, clamped into the new range. */
  reconfigure(policy: AdaptiveAdmissionPolicy, globalInflightLimit: number): void {
    this.#policy = policy;
    this.#max = Math.max(policy.min_limit, policy.max_limit ?? globalInflightLimit);
    this.#limit = Math.min(this.#max, Math.max(policy.min_limit, this.#limit));
  }

  get limit(): number {
    return this.#limit;
  }

  /** One upstream latency: request sent → response head, in ms. */
  recordLatency(latencyMs: number): void {
    const p = this.#policy;
    if (!p.enabled) return;
    this.#limit = latencyMs > p.high_latency_ms ? Math.max(p.min_limit, this.#limit - p.decrease_step) : Math.min(this.#max, this.#limit + p.increase_step);
  }

  /** null: admitted (pair with `release`); else the shed reason. */
  tryAcquire(): ShedReason | null {
    if (this.#policy.enabled && this.active >= this.#limit) return 'admission_limit';
    this.active++;
    return null;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }
}
