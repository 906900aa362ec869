/**
 * The IPC messages between the supervisor primary and its serving workers (node:cluster's
 * channel, JSON serialization). Requests carry an id; the worker answers each with one
 * `reply` of the same id, `ok: false` with an error message when the request failed.
 * A generation's payload travels as its UTF-8 text (canonical JSON is text; the serving
 * applier decodes it the same way), so it costs its size once, not a JSON array of bytes.
 */
import type { ApplyResult, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';

/** Environment variable carrying a worker's slot (0..workers-1) to the forked process. */
export const WORKER_SLOT_ENV = 'SPOOKY_WORKER_SLOT';

export type WorkerRequest =
  | {
      readonly kind: 'prepare';
      readonly id: number;
      readonly ref: GenerationRef;
      readonly source: ServingSource;
      readonly payload: string;
      /** Present: the commit holds the generation as the candidate. */
      readonly canary?: CanaryAssignment;
    }
  | { readonly kind: 'promote'; readonly id: number }
  | { readonly kind: 'drop-candidate'; readonly id: number }
  | { readonly kind: 'commit'; readonly id: number }
  | { readonly kind: 'abort'; readonly id: number }
  | { readonly kind: 'status'; readonly id: number }
  | { readonly kind: 'metrics'; readonly id: number };

export type PrimaryToWorker = WorkerRequest | { readonly kind: 'shutdown'; readonly signal: string };

export type WorkerReply = { readonly kind: 'reply'; readonly id: number } & (
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly error: string }
);

export type WorkerToPrimary =
  /** The worker's IPC handler is installed: it takes requests (it listens on nothing yet). */
  | { readonly kind: 'ready' }
  | WorkerReply
  /** Draining after `shutdown` (or a lost primary), for at most `drainMs` (the supervisor's hard stop waits that + 10 s). */
  | { readonly kind: 'stopping'; readonly drainMs: number }
  /** About once a second: totals for the control plane's Reports. */
  | { readonly kind: 'counters'; readonly requestsTotal: number; readonly inflight: number };

export type PrepareReply = ApplyResult;
