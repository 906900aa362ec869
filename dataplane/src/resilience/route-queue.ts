/**
 * Route queue: where a request waits when its upstream's in-flight cap is full, instead of
 * being shed at once — bounded per upstream (`route_queue.default_cap`, or `caps[<upstream>]`)
 * and in total (`global_cap`). A full queue sheds (`queue_full`, 503 with
 * `Retry-After: shed_retry_after_seconds`). A cap of 0 means no waiting at all.
 *
 * Pure data structure, no timers: the caller bounds each wait (request deadline, client abort)
 * and calls `remove`, and on every permit release calls `shift(upstream)` to hand the permit to
 * the oldest waiter (FIFO per upstream). Cost: O(1) enqueue, shift and remove; one small node
 * per waiting request (only under overload), nothing on the fast path.
 */
import type { ShedReason } from './reasons.ts';

/** A queued waiter: pass it back to `remove`. */
export interface QueueTicket<T> {
  readonly value: T;
  /** @internal links of the upstream's FIFO */
  prev: QueueTicket<T> | null;
  next: QueueTicket<T> | null;
  queued: boolean;
}

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

export class RouteQueue<T> {
  #caps: RouteQueueCaps;
  readonly #fifos = new Map<string, Fifo<T>>();
  #total = 0;

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

  /** Queues `value` behind `upstream`'s waiters, or refuses with `queue_full`. */
  enqueue(upstream: string, value: T): QueueTicket<T> | ShedReason {
    let fifo = this.#fifos.get(upstream);
    if (this.#total >= this.#caps.global_cap || (fifo?.length ?? 0) >= this.capOf(upstream)) return 'queue_full';
    if (fifo === undefined) {
      fifo = { head: null, tail: null, length: 0 };
      this.#fifos.set(upstream, fifo);
    }
    const ticket: QueueTicket<T> = { value, prev: fifo.tail, next: null, queued: true };
    if (fifo.tail) fifo.tail.next = ticket;
    else fifo.head = ticket;
    fifo.tail = ticket;
    fifo.length++;
    this.#total++;
    return ticket;
  }

  /** The oldest waiter of `upstream`, taken out of the queue; undefined when none. */
  shift(upstream: string): T | undefined {
    const fifo = this.#fifos.get(upstream);
    const head = fifo?.head;
    if (!fifo || !head) return undefined;
    this.#unlink(upstream, fifo, head);
    return head.value;
  }

  /** Takes a waiter out (its wait timed out or its client left); false when it was no longer queued. */
  remove(upstream: string, ticket: QueueTicket<T>): boolean {
    const fifo = this.#fifos.get(upstream);
    if (!fifo || !ticket.queued) return false;
    this.#unlink(upstream, fifo, ticket);
    return true;
  }

  length(upstream?: string): number {
    return upstream === undefined ? this.#total : (this.#fifos.get(upstream)?.length ?? 0);
  }

  #unlink(upstream: string, fifo: Fifo<T>, t: QueueTicket<T>): void {
    if (t.prev) t.prev.next = t.next;
    else fifo.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else fifo.tail = t.prev;
    t.prev = null;
    t.next = null;
    t.queued = false;
    fifo.length--;
    this.#total--;
    if (fifo.length === 0) this.#fifos.delete(upstream);
  }
}
