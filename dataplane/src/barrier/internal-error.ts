/**
 * The crash barrier's one reporting point. Whatever goes wrong inside one exchange, one
 * connection or one library object that is not a client's or a backend's doing (those have
 * their own outcomes) is a bug or a library defect: it is contained where it happened (that
 * exchange is reset, that object destroyed), reported here once, and the process keeps serving.
 *
 * Contract: `reportInternalError` never throws. Subscribers (observability/) count it as
 * `spooky_internal_errors_total{where}` and log it once at error level with the request id.
 * The `where` vocabulary is closed: add a value here, never invent one at a call site.
 */
import { channel } from 'node:diagnostics_channel';
import { CHANNELS } from '../telemetry/channel-names.ts';

export type InternalErrorWhere =
  /** Building an Exchange from a library stream or a node:http request threw. */
  | 'ingress_adapter'
  /** The pipeline's request handler rejected or threw (its contract says it never does). */
  | 'exchange_handler'
  /** A listener callback on a client stream, request or response threw. */
  | 'client_stream'
  /** The request-body relay failed in a way other than the client going away. */
  | 'request_body'
  /** An undici dispatcher (traffic or probe pool) emitted an error nobody else handles. */
  | 'upstream_pool'
  /** Relaying the response to the client threw. */
  | 'response_relay'
  /** An uncaught exception or unhandled rejection reached the process (then it exits). */
  | 'process';

export interface InternalErrorEvent {
  readonly where: InternalErrorWhere;
  readonly requestId: string | null;
  readonly err: unknown;
}

export const INTERNAL_ERROR_CHANNEL = CHANNELS.internalError;
const internalErrorChannel = channel(INTERNAL_ERROR_CHANNEL);

/** Publishes one internal error; safe to call from any callback, never throws. */
export function reportInternalError(where: InternalErrorWhere, err: unknown, requestId: string | null = null): void {
  try {
    if (internalErrorChannel.hasSubscribers) internalErrorChannel.publish({ where, requestId, err } satisfies InternalErrorEvent);
  } catch {
    // A subscriber failed: nothing sensible is left to report to.
  }
}

/**
 * Runs `fn` and contains a synchronous throw: reported under `where`, then `onThrow` (e.g.
 * reset the stream) runs, itself contained. For event callbacks the library invokes, where a
 * throw would otherwise become an uncaught exception.
 */
export function contained<A extends unknown[]>(
  where: InternalErrorWhere,
  fn: (...args: A) => void,
  onThrow?: () => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      reportInternalError(where, err);
      if (onThrow) {
        try {
          onThrow();
        } catch (cleanupErr) {
          reportInternalError(where, cleanupErr);
        }
      }
    }
  };
}
