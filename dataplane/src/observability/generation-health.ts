/**
 * Per-generation health windows of one process (docs/rollout.md §3 and §5): for every request
 * outcome, the generation the request pinned gets one more request, a local or an upstream 5xx,
 * and a latency count in the buckets of LATENCY_BUCKET_BOUNDS_MS (@spooky/proto). The control
 * plane's health gate and the in-node canary monitor (rollout/canary-monitor.ts) read them.
 *
 * Only the serving and the candidate generation are counted: two slots, pre-allocated, so a
 * request allocates nothing. A slot is claimed by the first request of a generation that the
 * store serves or holds as candidate, taking over the slot of a generation no longer held
 * (whose open window is closed first). Requests of a generation that is neither (a request that
 * pinned N before a swap and finishes after it, once N's slot was taken) are not counted.
 *
 * `close(now)` closes both open windows at that instant and returns every window closed since
 * the previous call, oldest first; windows without requests are left out (no traffic is no
 * data, and the control plane treats missing data as such). The backlog is bounded
 * (`maxBacklog`, default 64): beyond it the oldest windows are dropped and counted in `dropped`.
 */
import { type GenerationHealth, LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import type { Generation } from '../runtime/generation.ts';

const BOUNDS = LATENCY_BUCKET_BOUNDS_MS;
/** One bucket per bound plus the overflow bucket (everything above the last bound). */
export const LATENCY_BUCKETS = BOUNDS.length + 1;
const DEFAULT_MAX_BACKLOG = 64;

/**
 * The bucket of a latency: the first bound ≥ `ms` (counts[i] took ≤ bounds[i] and more than
 * bounds[i-1]); the overflow bucket beyond the last bound. NaN and negatives land in bucket 0.
 */
export function latencyBucket(ms: number): number {
  let lo = 0;
  let hi = BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((BOUNDS[mid] as number) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What the recorder asks the store: the generations it may count. */
export interface HeldGenerations {
  serving(): Generation | null;
  candidate(): Generation | null;
}

class Slot {
  generation: Generation | null = null;
  fromMs = 0;
  requests = 0;
  local5xx = 0;
  upstream5xx = 0;
  readonly buckets: number[] = new Array<number>(LATENCY_BUCKETS).fill(0);
}

export interface GenerationHealthRecorderOptions {
  readonly held: HeldGenerations;
  /** Wall clock in ms (windows carry unix times); default Date.now. */
  readonly now?: () => number;
  readonly maxBacklog?: number;
}

export class GenerationHealthRecorder {
  readonly #a = new Slot();
  readonly #b = new Slot();
  readonly #held: HeldGenerations;
  readonly #now: () => number;
  readonly #maxBacklog: number;
  #backlog: GenerationHealth[] = [];
  #dropped = 0;

  constructor(opts: GenerationHealthRecorderOptions) {
    this.#held = opts.held;
    this.#now = opts.now ?? Date.now;
    this.#maxBacklog = Math.max(1, opts.maxBacklog ?? DEFAULT_MAX_BACKLOG);
  }

  /**
   * Counts one finished request into `generation`'s open window. `local` is true when the
   * proxy made the reply itself (no upstream response relayed). Hot path: two identity
   * comparisons and four increments when the generation already has its slot.
   */
  record(generation: Generation, status: number, local: boolean, durationMs: number): void {
    const slot = this.#a.generation === generation ? this.#a : this.#b.generation === generation ? this.#b : this.#claim(generation);
    if (slot === null) return;
    slot.requests++;
    if (status >= 500) {
      if (local) slot.local5xx++;
      else slot.upstream5xx++;
    }
    (slot.buckets[latencyBucket(durationMs)] as number)++;
  }

  /** Closes the open windows now; every window closed since the previous call, oldest first. */
  close(): GenerationHealth[] {
    const now = this.#now();
    const serving = this.#held.serving();
    const candidate = this.#held.candidate();
    for (const slot of [this.#a, this.#b]) {
      this.#closeSlot(slot, now);
      // A generation no longer held frees its slot (and is not kept alive by it).
      if (slot.generation !== serving && slot.generation !== candidate) slot.generation = null;
    }
    const out = this.#backlog;
    this.#backlog = [];
    return out;
  }

  /** Windows dropped from the backlog because `close` was not called in time (a stalled reader). */
  get dropped(): number {
    return this.#dropped;
  }

  #claim(generation: Generation): Slot | null {
    const serving = this.#held.serving();
    const candidate = this.#held.candidate();
    if (generation !== serving && generation !== candidate) return null;
    const isHeld = (s: Slot) => s.generation !== null && (s.generation === serving || s.generation === candidate);
    const slot = !isHeld(this.#a) ? this.#a : !isHeld(this.#b) ? this.#b : null;
    if (slot === null) return null;
    const now = this.#now();
    this.#closeSlot(slot, now);
    slot.generation = generation;
    slot.fromMs = now;
    return slot;
  }

  #closeSlot(slot: Slot, now: number): void {
    const generation = slot.generation;
    if (generation !== null && slot.requests > 0) {
      const ref = generation.ref;
      this.#backlog.push({
        generation: ref === null ? undefined : { scope: ref.scope, seq: ref.seq, digest: ref.digest },
        fromUnixMs: slot.fromMs,
        toUnixMs: now,
        requests: slot.requests,
        local5xx: slot.local5xx,
        upstream5xx: slot.upstream5xx,
        latencyBucketCounts: slot.buckets.slice(),
      });
      if (this.#backlog.length > this.#maxBacklog) {
        this.#dropped += this.#backlog.length - this.#maxBacklog;
        this.#backlog.splice(0, this.#backlog.length - this.#maxBacklog);
      }
    }
    slot.fromMs = now;
    slot.requests = 0;
    slot.local5xx = 0;
    slot.upstream5xx = 0;
    slot.buckets.fill(0);
  }
}
