/**
 * Per-try state (Envoy's UpstreamRequest): which backend, when it started, when its head
 * arrived, how it failed. A request holds a list of them on its RequestContext; hedging will
 * mean several live at once, each cancellable through its own controller.
 */
import type { SpookyError } from '../errors.ts';
import type { BodyWatch } from './body-idle-watch.ts';
import type { CompiledBackend } from '../runtime/generation.ts';

export interface Attempt {
  /** 0 for the first try. */
  readonly index: number;
  readonly backendIndex: number;
  readonly backend: CompiledBackend;
  /** performance.now() at dispatch. */
  readonly startedAt: number;
  /** Cancels this try only (lost hedge, request timeout); the client's abort also reaches it. */
  readonly controller: AbortController;
  /** performance.now() when the response head arrived; null while waiting or when it failed. */
  headersAt: number | null;
  error: SpookyError | null;
  /** The client-body idle bound while this try sends a body; stopped when the try is over. */
  bodyWatch: BodyWatch | null;
}
