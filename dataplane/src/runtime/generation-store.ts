/**
 * Holds the generation being served. `swap` is one pointer assignment: requests already
 * running keep the generation they pinned (RequestContext), new requests see the new one.
 * After a swap the caller runs `state.retain(next)` so pools the new generation no longer
 * names are closed (gracefully: in-flight requests on them finish).
 */
import type { Generation } from './generation.ts';

export class GenerationStore {
  #current: Generation | null = null;

  /** The generation new requests pin; null before the first successful apply. */
  current(): Generation | null {
    return this.#current;
  }

  /** Serves `next` from now on; returns the previous generation (null on the first swap). */
  swap(next: Generation): Generation | null {
    const previous = this.#current;
    this.#current = next;
    return previous;
  }
}
