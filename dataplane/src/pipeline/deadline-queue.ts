/**
 * Whole-request deadlines without a timer per request. Every request of one generation has
 * the same `request_timeout_ms`, so deadlines added with the same timeout expire in the order
 * they were added: one FIFO list per timeout value, one timer per list armed for its oldest
 * entry. A request that finishes unlinks its entry (O(1), doubly linked) and leaves the timer
 * alone; when the timer fires it expires what is due and re-arms for the new oldest entry. So
 * the timer is re-armed about once per timeout period, not once per request, and a finished
 * request holds no memory until its deadline would have passed.
 *
 * Contract: `onExpire` runs at most once, at or after `timeoutMs` (timer resolution), never
 * after `cancel()`. A throw from it is contained (reported to the crash barrier).
 */
import { reportInternalError } from '../barrier/internal-error.ts';

export interface Deadline {
  /** The request finished: the deadline will not fire. Idempotent. */
  cancel(): void;
}

interface Entry extends Deadline {
  readonly at: number;
  readonly onExpire: () => void;
  prev: Entry | null;
  next: Entry | null;
  list: DeadlineList | null;
}

class DeadlineList {
  head: Entry | null = null;
  tail: Entry | null = null;
  timer: NodeJS.Timeout | null = null;

  push(entry: Entry): void {
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    entry.list = this;
  }

  unlink(entry: Entry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = null;
    entry.next = null;
    entry.list = null;
  }
}

export class DeadlineQueue {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * Calls `onExpire` once `timeoutMs` have passed since `from` (default: now), unless
   * cancelled first. `from` earlier than now re-arms a deadline that began before (a request
   * whose upstream has its own request timeout, known only after routing); the list stays in
   * expiry order as long as entries of one timeout are added in the order of their `from`
   * (otherwise an entry fires late by at most the disorder).
   */
  add(timeoutMs: number, onExpire: () => void, from?: number): Deadline {
    let list = this.#lists.get(timeoutMs);
    if (list === undefined) {
      list = new DeadlineList();
      this.#lists.set(timeoutMs, list);
    }
    const now = this.#now();
    const entry: Entry = {
      at: (from ?? now) + timeoutMs,
      onExpire,
      prev: null,
      next: null,
      list: null,
      cancel() {
        entry.list?.unlink(entry);
      },
    };
    list.push(entry);
    if (list.timer === null) this.#arm(timeoutMs, list, Math.max(1, entry.at - now));
    return entry;
  }

  /**
   * Moves a pending deadline to another timeout counted from `from` (same `onExpire`); a
   * deadline that already fired or was cancelled stays so (returned as is).
   */
  retime(deadline: Deadline, timeoutMs: number, from: number): Deadline {
    const entry = deadline as Entry;
    if (entry.list === null) return deadline;
    entry.list.unlink(entry);
    return this.add(timeoutMs, entry.onExpire, from);
  }

  /** Expires every due entry of every list (the timers call this; tests with a fake clock too). */
  expireDue(): void {
    for (const [timeoutMs, list] of this.#lists) this.#expire(timeoutMs, list);
  }

  /** Entries waiting (for tests). */
  get size(): number {
    let n = 0;
    for (const list of this.#lists.values()) for (let e = list.head; e; e = e.next) n++;
    return n;
  }

  #expire(timeoutMs: number, list: DeadlineList): void {
    const now = this.#now();
    for (let e = list.head; e !== null && e.at <= now; e = list.head) {
      list.unlink(e);
      try {
        e.onExpire();
      } catch (err) {
        reportInternalError('exchange_handler', err);
      }
    }
    if (list.timer !== null) {
      clearTimeout(list.timer);
      list.timer = null;
    }
    if (list.head === null) {
      // Keep the list for the next request of this generation; drop it when idle long enough
      // that a new generation's timeout has surely replaced it.
      if (this.#lists.size > 8) this.#lists.delete(timeoutMs);
      return;
    }
    this.#arm(timeoutMs, list, Math.max(1, list.head.at - now));
  }

  #arm(timeoutMs: number, list: DeadlineList, delayMs: number): void {
    list.timer = setTimeout(() => {
      list.timer = null;
      this.#expire(timeoutMs, list);
    }, delayMs);
    list.timer.unref();
  }
}

/** The process's one queue, used by every RequestContext. */
export const requestDeadlines = new DeadlineQueue();

/**
 * The route queue's waits (`resilience.route_queue.max_wait_ms`): one entry per waiting
 * request, added only when a request queues (overload), so never on the fast path.
 */
export const queueWaitDeadlines = new DeadlineQueue();
