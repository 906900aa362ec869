/**
 * Route queue: the one place a request waits instead of being shed at once, per upstream, in
 * two lanes that share the same bounds:
 *  - `upstream` lane: the upstream's in-flight cap (`per_upstream_inflight_limit`) is full at
 *    admission (admit-request.ts); woken by a permit of that upstream being handed over;
 *  - `backend` lane: every candidate backend's cap (`per_backend_inflight_limit`) is full in the
 *    attempt loop; woken by a backend permit of that upstream being returned (attempt.ts).
 * Bounded per upstream (`route_queue.default_cap`, or `caps[<upstream>]`, both lanes together)
 * and in total (`global_cap`, every upstream and lane). A full queue sheds (`queue_full`, 503
 * with `Retry-After: shed_retry_after_seconds`). A cap of 0 means no waiting at all. The global
 * in-flight cap never queues (a full process sheds at once: `inflight_global`).
 *
 * Pure data structure, no timers: the caller bounds each wait (request deadline, client abort,
 * `route_queue.max_wait_ms` → 503 `queue_timeout`; pipeline/queue-wait.ts) and calls `remove`,
 * and on every permit release calls `shift` / `shiftUpstream` to hand it to the oldest waiter
 * of that lane (FIFO per upstream and lane). Cost: O(1) enqueue, shift and remove; one small
 * node per waiting request (only under overload), nothing on the fast path (`upstreamWaiting`
 * is a field read).
 */
import type { ShedReason } from './reasons.ts';

/** A queued waiter: pass it back to `remove`. */
export interface QueueTicket<T> {
  readonly value: T;
  /** @internal links of the upstream's FIFO */
  prev: QueueTicket<T> | null;
  next: QueueTicket<T> | null;
  queued: boolean;
  /** @internal which lane holds it */
  readonly lane: Lane;
}

type Lane = 'backend' | 'upstream';

interface Fifo<T> {
  head: QueueTicket<T> | null;
  tail: QueueTicket<T> | null;
  length: number;
}

export interface RouteQueueCaps {
  readonly default_cap: number;
  readonly global_cap: number;
  readonly caps: Readonly<Record<string, number>>;
}

/** `T`: backend-lane waiters; `U`: upstream-lane waiters. */
export class RouteQueue<T, U = T> {
  #caps: RouteQueueCaps;
  readonly #backend = new Map<string, Fifo<T>>();
  readonly #upstream = new Map<string, Fifo<U>>();
  #total = 0;
  #upstreamTotal = 0;

  constructor(caps: RouteQueueCaps) {
    this.#caps = caps;
  }

  /** A new generation's caps; waiters already queued stay. */
  reconfigure(caps: RouteQueueCaps): void {
    this.#caps = caps;
  }

  capOf(upstream: string): number {
    return this.#caps.caps[upstream] ?? this.#caps.default_cap;
  }

  /** Whether `upstream` may queue at all (its cap and the global cap are not 0). */
  allowsWaiting(upstream: string): boolean {
    return this.#caps.global_cap > 0 && this.capOf(upstream) > 0;
  }

  /** Backend lane: queues `value` behind `upstream`'s waiters, or refuses with `queue_full`. */
  enqueue(upstream: string, value: T): QueueTicket<T> | ShedReason {
    return this.#enqueue(this.#backend, 'backend', upstream, value);
  }

  /** Upstream lane: queues `value` behind `upstream`'s waiters for an upstream permit, or refuses with `queue_full`. */
  enqueueUpstream(upstream: string, value: U): QueueTicket<U> | ShedReason {
    const ticket = this.#enqueue(this.#upstream, 'upstream', upstream, value);
    if (typeof ticket !== 'string') this.#upstreamTotal++;
    return ticket;
  }

  /** The oldest backend-lane waiter of `upstream`, taken out of the queue; undefined when none. */
  shift(upstream: string): T | undefined {
    if (this.#total === this.#upstreamTotal) return undefined;
    return this.#shift(this.#backend, upstream);
  }

  /** The oldest upstream-lane waiter of `upstream`, taken out of the queue; undefined when none. */
  shiftUpstream(upstream: string): U | undefined {
    if (this.#upstreamTotal === 0) return undefined;
    const value = this.#shift(this.#upstream, upstream);
    if (value !== undefined) this.#upstreamTotal--;
    return value;
  }

  /** Takes a waiter out (its wait timed out or its client left); false when it was no longer queued. */
  remove(upstream: string, ticket: QueueTicket<T> | QueueTicket<U>): boolean {
    if (!ticket.queued) return false;
    if (ticket.lane === 'upstream') {
      const fifo = this.#upstream.get(upstream);
      if (!fifo) return false;
      this.#unlink(this.#upstream, upstream, fifo, ticket as QueueTicket<U>);
      this.#upstreamTotal--;
      return true;
    }
    const fifo = this.#backend.get(upstream);
    if (!fifo) return false;
    this.#unlink(this.#backend, upstream, fifo, ticket as QueueTicket<T>);
    return true;
  }

  /** Waiters of `upstream` (both lanes), or of every upstream. */
  length(upstream?: string): number {
    if (upstream === undefined) return this.#total;
    return (this.#backend.get(upstream)?.length ?? 0) + (this.#upstream.get(upstream)?.length ?? 0);
  }

  /** Upstream-lane waiters of every upstream (a field read: the release path checks it first). */
  get upstreamWaiting(): number {
    return this.#upstreamTotal;
  }

  #enqueue<V>(fifos: Map<string, Fifo<V>>, lane: Lane, upstream: string, value: V): QueueTicket<V> | ShedReason {
    if (this.#total >= this.#caps.global_cap || this.length(upstream) >= this.capOf(upstream)) return 'queue_full';
    let fifo = fifos.get(upstream);
    if (fifo === undefined) {
      fifo = { head: null, tail: null, length: 0 };
      fifos.set(upstream, fifo);
    }
    const ticket: QueueTicket<V> = { value, prev: fifo.tail, next: null, queued: true, lane };
    if (fifo.tail) fifo.tail.next = ticket;
    else fifo.head = ticket;
    fifo.tail = ticket;
    fifo.length++;
    this.#total++;
    return ticket;
  }

  #shift<V>(fifos: Map<string, Fifo<V>>, upstream: string): V | undefined {
    const fifo = fifos.get(upstream);
    const head = fifo?.head;
    if (!fifo || !head) return undefined;
    this.#unlink(fifos, upstream, fifo, head);
    return head.value;
  }

  #unlink<V>(fifos: Map<string, Fifo<V>>, upstream: string, fifo: Fifo<V>, t: QueueTicket<V>): void {
    if (t.prev) t.prev.next = t.next;
    else fifo.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else fifo.tail = t.prev;
    t.prev = null;
    t.next = null;
    t.queued = false;
    fifo.length--;
    this.#total--;
    if (fifo.length === 0) fifos.delete(upstream);
  }
}
