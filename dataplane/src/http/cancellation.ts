/**
 * Cancellation without EventTarget: what a request and each of its tries use instead of an
 * AbortController. Measured per small GET through the attempt loop: an AbortController, its
 * signal, the signal's listener map and an add/remove pair per listener cost ≈ 1.5 KB of heap
 * and ≈ 5 µs of CPU (Node's EventTarget validates options and keeps a Map per event type); a
 * plain listener list costs a few bytes (bench/README.md, "Allocation per request").
 *
 * `Cancellation` is its own signal (`.signal` returns itself), so code written against an
 * AbortController (`c.abort(reason)`, `c.signal.aborted`, `signal.addEventListener('abort', fn)`)
 * reads the same. `CancelSignal` is the part of AbortSignal the data plane's own code uses; a
 * real AbortSignal satisfies it too, so tests and callers may pass either. An API that needs a
 * real AbortSignal (timers' `sleep`, `AbortSignal.any`, `events.once`) gets one from
 * `abortSignalOf`, made on first use and aborted with the same reason.
 *
 * Contract: listeners run once, in the order added, synchronously inside `abort()`; a listener
 * added after the abort never runs (check `aborted` first, as with AbortSignal); a throwing
 * listener is reported (crash barrier) and the others still run.
 */
import { reportInternalError } from '../barrier/internal-error.ts';

type Listener = () => void;

/** The AbortSignal subset the pipeline reads: state and the 'abort' listener pair. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: Listener, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: Listener): void;
}

export class Cancellation implements CancelSignal {
  #aborted = false;
  #reason: unknown = undefined;
  /** One listener is the common case: held without an array. */
  #one: Listener | null = null;
  #more: Listener[] | null = null;
  #native: AbortController | null = null;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** This object: a Cancellation is its own signal (AbortController-shaped call sites). */
  get signal(): Cancellation {
    return this;
  }

  /** Aborts with `reason` (default: an AbortError like AbortController's); later calls do nothing. */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const one = this.#one;
    const more = this.#more;
    this.#one = null;
    this.#more = null;
    if (one !== null) run(one);
    if (more !== null) for (const fn of more) run(fn);
    this.#native?.abort(this.#reason);
  }

  addEventListener(_type: 'abort', listener: Listener, _options?: { readonly once?: boolean }): void {
    if (this.#aborted) return;
    if (this.#one === null && this.#more === null) this.#one = listener;
    else if (this.#more === null) this.#more = [listener];
    else this.#more.push(listener);
  }

  removeEventListener(_type: 'abort', listener: Listener): void {
    if (this.#one === listener) {
      this.#one = null;
      return;
    }
    const more = this.#more;
    if (more === null) return;
    const at = more.indexOf(listener);
    if (at >= 0) more.splice(at, 1);
  }

  /** A real AbortSignal following this one (made once, on first call). */
  toAbortSignal(): AbortSignal {
    if (this.#native === null) {
      this.#native = new AbortController();
      if (this.#aborted) this.#native.abort(this.#reason);
    }
    return this.#native.signal;
  }
}

/** `signal` as a real AbortSignal, for APIs that take one. */
export function abortSignalOf(signal: CancelSignal): AbortSignal {
  if (signal instanceof Cancellation) return signal.toAbortSignal();
  if (signal instanceof AbortSignal) return signal;
  throw new TypeError('abortSignalOf: neither a Cancellation nor an AbortSignal');
}

function run(fn: Listener): void {
  try {
    fn();
  } catch (err) {
    reportInternalError('exchange_handler', err);
  }
}
