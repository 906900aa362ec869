/**
 * Holds the generation being served and, during a staged rollout, a candidate beside it
 * (docs/rollout.md §5, the in-node canary). `swap`, `hold`, `promote` and `dropCandidate` are
 * pointer assignments: requests already running keep the generation they pinned
 * (RequestContext), new requests see the new state. After any of them the caller runs
 * `state.retain(...)` with every generation still held, so pools no held generation names are
 * closed (gracefully: in-flight requests on them finish).
 *
 * `pick` is on the hot path: with no candidate it is one field read and one comparison.
 */
import { type CanaryAssignment, routesToCandidate } from '../rollout/in-node-canary.ts';
import type { Generation } from './generation.ts';

/** A candidate generation held beside the serving one, with its share of new requests. */
export interface HeldCandidate {
  readonly generation: Generation;
  readonly assignment: CanaryAssignment;
}

export class GenerationStore {
  #current: Generation | null = null;
  #candidate: HeldCandidate | null = null;

  /** The serving generation; null before the first successful apply. */
  current(): Generation | null {
    return this.#current;
  }

  /** The candidate held beside the serving generation, or null. */
  candidate(): HeldCandidate | null {
    return this.#candidate;
  }

  /**
   * The generation a new request pins: the candidate for its share of clients (stable per
   * client address, salted by the candidate's digest; in-node-canary.ts), else the serving one.
   */
  pick(remoteAddress: string | null): Generation | null {
    const held = this.#candidate;
    if (held === null) return this.#current;
    return routesToCandidate(held.assignment, { remoteAddress }) ? held.generation : this.#current;
  }

  /** Serves `next` fully from now on and drops any candidate; returns the previous serving generation. */
  swap(next: Generation): Generation | null {
    const previous = this.#current;
    this.#current = next;
    this.#candidate = null;
    return previous;
  }

  /**
   * Holds `candidate` beside the serving generation (replacing an earlier candidate, which is
   * returned). Throws when nothing is served: a candidate needs a baseline.
   */
  hold(candidate: Generation, assignment: CanaryAssignment): HeldCandidate | null {
    if (this.#current === null) throw new Error('a candidate needs a serving generation beside it');
    const previous = this.#candidate;
    this.#candidate = { generation: candidate, assignment };
    return previous;
  }

  /** The candidate serves fully; returns the generation it replaced, or null when none was held. */
  promote(): Generation | null {
    const held = this.#candidate;
    if (held === null) return null;
    const previous = this.#current;
    this.#current = held.generation;
    this.#candidate = null;
    return previous;
  }

  /** Drops the candidate (fall back, or a rollback to the serving generation); returns it. */
  dropCandidate(): HeldCandidate | null {
    const held = this.#candidate;
    this.#candidate = null;
    return held;
  }
}
