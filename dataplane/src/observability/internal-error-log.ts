/**
 * Writes one error line per crash-barrier report (barrier/internal-error.ts): msg
 * "internal error", with `where`, the request id when there is one, and the error's message
 * and stack. The end-to-end harness treats this line, like "uncaught exception", as a failed
 * test: an internal error is always a bug to fix, even though the process survives it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type pino from 'pino';
import { INTERNAL_ERROR_CHANNEL, type InternalErrorEvent } from '../barrier/internal-error.ts';

/** Starts logging internal errors; the returned function stops it. */
export function startInternalErrorLog(logger: pino.Logger): () => void {
  const onError = (message: unknown): void => {
    const e = message as InternalErrorEvent;
    const err = e.err instanceof Error ? { message: e.err.message, code: (e.err as { code?: unknown }).code, stack: e.err.stack } : { message: String(e.err) };
    logger.error({ where: e.where, requestId: e.requestId ?? undefined, err }, 'internal error');
  };
  subscribe(INTERNAL_ERROR_CHANNEL, onError);
  return () => {
    unsubscribe(INTERNAL_ERROR_CHANNEL, onError);
  };
}
