/**
 * The bounds of one route-queue wait, shared by both lanes (admit-request's upstream lane,
 * run-attempts' backend lane): the request's abort (client gone, whole-request deadline) and
 * `resilience.route_queue.max_wait_ms` (one entry in the shared `queueWaitDeadlines` list,
 * armed only when a request queues, so nothing on the fast path).
 *
 * Contract: `leave` takes the waiter out of the queue and says whether it was still queued
 * (false: a permit was already handed to it). On abort the waiter leaves and `fail` gets the
 * abort reason; on the wait limit, if it was still queued, `timedOut` runs. The returned
 * `disarm` is for the waker: it drops both bounds once the waiter got its permit.
 */
import { abortError } from '../errors.ts';
import type { RequestContext } from './context.ts';
import { type Deadline, queueWaitDeadlines } from './deadline-queue.ts';

export function boundQueueWait(ctx: RequestContext, leave: () => boolean, fail: (err: Error) => void, timedOut: () => void): () => void {
  const signal = ctx.signal;
  const maxWaitMs = ctx.generation.config.resilience.route_queue.max_wait_ms;
  let limit: Deadline | null = null;
  const abort = (): void => {
    limit?.cancel();
    leave();
    fail(abortError(signal));
  };
  signal.addEventListener('abort', abort, { once: true });
  if (maxWaitMs !== null) {
    limit = queueWaitDeadlines.add(maxWaitMs, () => {
      if (!leave()) return;
      signal.removeEventListener('abort', abort);
      timedOut();
    });
  }
  return () => {
    signal.removeEventListener('abort', abort);
    limit?.cancel();
  };
}
