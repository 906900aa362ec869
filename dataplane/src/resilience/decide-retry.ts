/**
 * decideRetry: may a failed attempt be tried again, and after how long? Pure: facts about the
 * request and the attempt that just ended → `{retry: true, backoffMs}` or `{retry: false,
 * reason}`. The attempt loop is the only caller; it then records the retry in the budget
 * (retry-budget.ts) and picks a different backend.
 *
 * Rules, checked in this order (the first that refuses names the reason, so a request that
 * could not be retried anyway is never counted against the budget):
 *  1. `client_aborted`: the client is gone.
 *  2. `not_retryable`: a response byte was already relayed to the client, or the outcome
 *     (transport error kind or status) is not in `retry_on`.
 *  3. `not_idempotent`: the method is not idempotent (RFC 9110 §9.2.2) *and* request bytes
 *     were sent; a connect failure before any byte left is safe to retry for any method
 *     (Pingora's fail_to_connect).
 *  4. `body_not_replayable`: the body was not buffered within `max_replay_body_bytes`.
 *  5. `max_attempts`: attempts made ≥ `max_attempts` (which counts the first try).
 *  6. `no_alternate`: no untried healthy backend left (a retry always goes elsewhere).
 *  7. `deadline`: the jittered backoff would not leave time before the request deadline.
 *  8. `budget`: the retry budget is spent (fact computed by the caller from retry-budget.ts).
 * Backoff: full jitter, `random() × min(backoff_max_ms, backoff_base_ms × 2^(attempts−1))`
 * (AWS "exponential backoff and jitter"), `random` injected.
 * Cost: a few comparisons; refusals return preallocated frozen objects (no allocation), a
 * retry allocates one small object.
 */
import type { RetryPolicy } from '@spooky/config';
import type { RetryRefusal } from './reasons.ts';
import { RETRY_REFUSALS } from './reasons.ts';

export type AttemptFailure = 'connect_failure' | 'reset' | 'timeout';

export interface RetryFacts {
  readonly method: string;
  /** Attempts made so far, including the one that just ended (≥ 1). */
  readonly attempts: number;
  /** How the attempt ended: a transport failure kind, or a response status (head held back, not relayed). */
  readonly failure: AttemptFailure | null;
  readonly status: number | null;
  /** Any response byte (head included) already sent to the client. */
  readonly responseRelayed: boolean;
  /** Any request byte written to the backend (false: the connection never came up). */
  readonly requestSent: boolean;
  /** No body, or the whole body is buffered and can be sent again. */
  readonly bodyReplayable: boolean;
  /** Milliseconds left before the request deadline. */
  readonly remainingMs: number;
  /** Healthy backends of the upstream not tried yet. */
  readonly alternatesLeft: number;
  readonly clientAborted: boolean;
  /** retry-budget.ts `canRetry` for this upstream (global and per-upstream). */
  readonly budgetAllows: boolean;
}

export type RetryDecision = { readonly retry: true; readonly backoffMs: number } | { readonly retry: false; readonly reason: RetryRefusal };

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

const REFUSAL = Object.fromEntries(RETRY_REFUSALS.map((reason) => [reason, Object.freeze({ retry: false, reason })])) as unknown as Readonly<
  Record<RetryRefusal, RetryDecision>
>;

/** `random` returns [0, 1); Math.random in production, a fixed sequence in tests. */
export function decideRetry(facts: RetryFacts, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  if (facts.clientAborted) return REFUSAL.client_aborted;
  if (facts.responseRelayed || !retryOn(facts, policy)) return REFUSAL.not_retryable;
  if (facts.requestSent && !IDEMPOTENT.has(facts.method)) return REFUSAL.not_idempotent;
  if (!facts.bodyReplayable) return REFUSAL.body_not_replayable;
  if (facts.attempts >= policy.max_attempts) return REFUSAL.max_attempts;
  if (facts.alternatesLeft <= 0) return REFUSAL.no_alternate;
  const ceiling = Math.min(policy.backoff_max_ms, policy.backoff_base_ms * 2 ** Math.max(0, facts.attempts - 1));
  const backoffMs = Math.floor(random() * ceiling);
  if (backoffMs >= facts.remainingMs) return REFUSAL.deadline;
  if (!facts.budgetAllows) return REFUSAL.budget;
  return { retry: true, backoffMs };
}

function retryOn(facts: RetryFacts, policy: RetryPolicy): boolean {
  const on = policy.retry_on;
  if (facts.failure !== null) return on.includes(facts.failure);
  return facts.status !== null && on.includes(facts.status);
}
