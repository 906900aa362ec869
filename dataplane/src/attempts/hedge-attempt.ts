/**
 * The attempt loop's side of hedging: real Attempts in the hedge race (hedge-race.ts).
 *
 * When the first try has no head after `delay_ms` (the shared deadline queue: one timer per
 * delay value), a hedge is sent to another backend unless
 *  - the client is gone (nothing counted),
 *  - brownout is on (`refused_brownout`),
 *  - less than `delay_ms` is left before the request deadline (`refused_deadline`),
 *  - no candidate is left: healthy, breaker available, backend cap free, not tried
 *    (`no_alternate`),
 *  - the retry budget refuses (`refused_budget`); a hedge sent spends it like a retry.
 *
 * The loser is cancelled through its own controller with a `client_aborted` reason (the
 * transport aborts the upstream stream / connection, so the origin sees the request
 * cancelled) and ends with that error: one of attempt.ts' OUR_CANCELLATIONS, so a lost hedge
 * is neutral for the breaker, passive health and the balancer's failure samples. A head that
 * arrives after the other try won is aborted unrelayed and ends the same way (its status is
 * not reported: it was never looked at).
 */
import { SpookyError, toSpookyError } from '../errors.ts';
import type { UpstreamResponse } from '../http/backend-transport.ts';
import type { RequestContext } from '../pipeline/context.ts';
import { requestDeadlines } from '../pipeline/deadline-queue.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';
import type { HedgeRefusal, HedgeResult } from '../resilience/hedge-results.ts';
import type { CompiledUpstream } from '../runtime/generation.ts';
import type { Attempt } from './attempt.ts';
import { pickable } from './candidates.ts';
import { type HedgeTimers, hedgeRace, type RaceTry } from './hedge-race.ts';

/** The reason a hedge race's loser is aborted with (message for logs; the code makes it neutral). */
function hedgeLost(): SpookyError {
  return new SpookyError('client_aborted', 'hedge race lost');
}

class AttemptTry implements RaceTry<UpstreamResponse> {
  readonly attempt: Attempt;
  readonly pending: Promise<UpstreamResponse>;

  constructor(attempt: Attempt, pending: Promise<UpstreamResponse>) {
    this.attempt = attempt;
    this.pending = pending;
  }

  failed(err: unknown): void {
    this.attempt.end(toSpookyError(err));
  }

  cancel(): void {
    const controller = this.attempt.controller;
    if (!controller.signal.aborted) controller.abort(hedgeLost());
  }

  discard(response: UpstreamResponse): void {
    this.attempt.end(hedgeLost());
    response.abort();
  }
}

export interface HedgeInput {
  readonly ctx: RequestContext;
  readonly deps: StageDeps;
  readonly upstream: CompiledUpstream;
  /** The first try, dispatched, and its pending head (not awaited yet). */
  readonly first: Attempt;
  readonly pending: Promise<UpstreamResponse>;
  readonly delayMs: number;
  /** performance.now() of the request deadline. */
  readonly deadlineAt: number;
  /** Backends tried so far (the first try's); the hedge's is added by `dispatch`. */
  readonly tried: ReadonlySet<number>;
  /** Begins a try on backend `index` (Attempt, budget's recordRetry, marked tried) and sends it. */
  readonly dispatch: (index: number, now: number) => { readonly attempt: Attempt; readonly pending: Promise<UpstreamResponse> };
  /** The delay's timer source; the process's deadline queue unless a test gives one. */
  readonly timers?: HedgeTimers;
}

/** What the loop goes on with: the winner and its head, or the error (each try already ended). */
export type HedgeOutcome =
  | { readonly ok: true; readonly attempt: Attempt; readonly response: UpstreamResponse; readonly hedge: HedgeResult | null }
  | { readonly ok: false; readonly error: unknown; readonly hedge: HedgeResult | null };

const noop = (): void => {};

export async function raceWithHedge(input: HedgeInput): Promise<HedgeOutcome> {
  const { ctx, deps, upstream, delayMs } = input;
  const launch = (): AttemptTry | HedgeRefusal | null => {
    if (ctx.signal.aborted) return null;
    if (deps.state.brownout.active) return 'refused_brownout';
    const now = performance.now();
    if (input.deadlineAt - now < delayMs) return 'refused_deadline';
    const candidates = pickable(upstream, now, input.tried, noop);
    if (candidates.length === 0) return 'no_alternate';
    // Asked before the pick: a refused hedge leaves the balancer's cursor alone.
    if (!deps.state.budgets.canRetry(upstream.retryWindow, now)) return 'refused_budget';
    const index = upstream.balancer.pick(candidates, { exclude: input.tried, request: ctx.exchange });
    if (index === null) return 'no_alternate';
    const sent = input.dispatch(index, now);
    return new AttemptTry(sent.attempt, sent.pending);
  };
  const out = await hedgeRace<UpstreamResponse>({
    first: new AttemptTry(input.first, input.pending),
    delayMs,
    timers: input.timers ?? requestDeadlines,
    launch,
  });
  if (!out.ok) return out;
  return { ok: true, attempt: (out.winner as AttemptTry).attempt, response: out.value, hedge: out.hedge };
}
