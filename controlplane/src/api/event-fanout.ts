/**
 * The live part of GET /v1/events: one listener on the event log for all streams. When events
 * are appended it reads them once (from the oldest subscriber cursor, normally shared by all),
 * serialises each event once into a Buffer, and writes that same Buffer to every subscriber
 * that may see it, so an event costs one query and one JSON.stringify, not one per subscriber.
 *
 * A subscriber whose socket does not drain (more than `maxBufferedBytes` queued after a write)
 * is disconnected instead of buffering without limit; it reconnects with Last-Event-ID and
 * replays from the log.
 */
import type { CpEvent, EventLog } from '../generations/lifecycle-ports.ts';

export interface Subscriber {
  /** Id of the last event this subscriber has been sent (or chose to skip). */
  cursor: number;
  readonly scope: string | null;
  accepts(event: CpEvent): boolean;
  /** May this subscriber see events of `scope` (its token's scopes)? For frames outside the log. */
  seesScope(scope: string): boolean;
  /** Queues bytes on the subscriber's socket; returns the bytes now queued there. */
  write(frame: Buffer): number;
  /** Ends the stream of a subscriber that fell behind. */
  drop(): void;
}

const BATCH = 500;

export class EventFanout {
  readonly #events: EventLog;
  readonly #maxBufferedBytes: number;
  readonly #subscribers = new Set<Subscriber>();
  #unsubscribe: (() => void) | null = null;

  constructor(events: EventLog, options: { maxBufferedBytes: number }) {
    this.#events = events;
    this.#maxBufferedBytes = options.maxBufferedBytes;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /** Starts live delivery to `subscriber` of every event after its cursor. */
  add(subscriber: Subscriber): void {
    this.#subscribers.add(subscriber);
    this.#unsubscribe ??= this.#events.onAppended(() => this.deliver());
  }

  remove(subscriber: Subscriber): void {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size === 0 && this.#unsubscribe) {
      this.#unsubscribe();
      this.#unsubscribe = null;
    }
  }

  /**
   * Writes a frame that is not in the event log (a rollout decision, see rolloutFrame) to every
   * subscriber of `scope` now live. Such frames carry no `id:`, so a client's Last-Event-ID
   * stays that of the last log event; they are not replayed on resume (GET /v1/rollouts/{id}
   * holds the whole decision log).
   */
  broadcast(scope: string, frame: Buffer): void {
    for (const s of [...this.#subscribers]) {
      if ((s.scope !== null && s.scope !== scope) || !s.seesScope(scope)) continue;
      if (s.write(frame) > this.#maxBufferedBytes) {
        this.remove(s);
        s.drop();
      }
    }
  }

  /** Sends every event newer than the subscribers' cursors (called on each append poke). */
  deliver(): void {
    for (;;) {
      let from = Number.POSITIVE_INFINITY;
      for (const s of this.#subscribers) from = Math.min(from, s.cursor);
      if (!Number.isFinite(from)) return;
      const batch = this.#events.after(from, null, BATCH);
      for (const event of batch) {
        let frame: Buffer | null = null;
        for (const s of this.#subscribers) {
          if (event.id <= s.cursor) continue;
          s.cursor = event.id;
          if ((s.scope !== null && event.scope !== s.scope) || !s.accepts(event)) continue;
          frame ??= Buffer.from(sseFrame(event));
          if (s.write(frame) > this.#maxBufferedBytes) {
            this.remove(s);
            s.drop();
          }
        }
      }
      if (batch.length < BATCH) return;
    }
  }
}

export function sseFrame(event: CpEvent): string {
  const data = JSON.stringify({ id: event.id, type: event.type, scope: event.scope, at: event.at, data: event.data });
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`;
}

/** The SSE frame of one rollout decision: `event: rollout.<kind>`, no id (see EventFanout.broadcast). */
export function rolloutFrame(rollout: { readonly id: string; readonly scope: string }, decision: { readonly kind: string; readonly at: string }): string {
  const type = `rollout.${decision.kind}`;
  const data = JSON.stringify({ type, scope: rollout.scope, at: decision.at, data: { rolloutId: rollout.id, decision } });
  return `event: ${type}\ndata: ${data}\n\n`;
}
