/**
 * Access log: one line per request, msg "request", carrying every field of the pipeline's
 * `spooky:request:end` event (request id, route upstream, backend, status, durations,
 * outcome, generation seq). The pipeline publishes; this only subscribes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type pino from 'pino';
import type { RequestEndEvent } from '../pipeline/events.ts';

/** Starts writing access-log lines; the returned function stops it. */
export function startAccessLog(logger: pino.Logger): () => void {
  const onEnd = (message: unknown): void => {
    logger.info(message as RequestEndEvent, 'request');
  };
  subscribe('spooky:request:end', onEnd);
  return () => {
    unsubscribe('spooky:request:end', onEnd);
  };
}
