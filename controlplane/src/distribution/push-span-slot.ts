/**
 * The span of the one push a session has in flight (span export on): started when the push is
 * queued, handed out once to whoever ends it — the answer to that nonce, the push timeout, or
 * the stream's end. An answer for another nonce (an old push) takes nothing.
 */
import type { PushFacts, PushSpan, PushTracing } from '../tracing/control-plane-tracing.ts';

export class PushSpanSlot {
  #span: PushSpan | null = null;
  #nonce = '';

  /** Starts the span of a new push; one still open lost its answer (ended as abandoned). */
  start(tracing: PushTracing, facts: PushFacts): void {
    this.takeAny()?.ended('abandoned');
    this.#span = tracing.startPush(facts);
    this.#nonce = facts.nonce;
  }

  /** The open span when it belongs to `nonce` (then no longer held), else null. */
  take(nonce: string): PushSpan | null {
    return this.#nonce === nonce ? this.takeAny() : null;
  }

  /** The open span, whatever its nonce (then no longer held); null when none. */
  takeAny(): PushSpan | null {
    const span = this.#span;
    this.#span = null;
    return span;
  }
}
