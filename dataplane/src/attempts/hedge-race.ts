/**
 * The hedge race: a first try in flight; when it has no response head after `delayMs`, a
 * second try (the hedge) may be dispatched to another backend; the first head of either wins
 * and the other is cancelled at once. Pure control flow over two abstract tries, so it is
 * tested over fake transports (hedge-race.test.ts); the attempt loop (run-attempts.ts) gives
 * it real Attempts.
 *
 * Contract:
 *  - the delay comes from `timers` (the shared deadline queue: one timer per delay value for
 *    every request, not one per request) and is cancelled as soon as the race is decided;
 *  - `launch()` runs at most once, only while the first try is still pending; it dispatches
 *    the hedge (and returns it), or returns the refusal to count, or null (nothing to count:
 *    the client is gone);
 *  - every try that rejects gets `failed(err)` (also a cancelled loser, after the race);
 *    every head that arrives after the other try won gets `discard(value)`; the loser gets
 *    `cancel()` exactly once when the winner's head arrives (its pending then rejects);
 *  - the first try failing before the hedge was sent decides the race at once (no hedge is
 *    sent afterwards: the caller's retry path applies, no double dispatch);
 *  - both failing: the race fails with the FIRST try's error (the answer the request would
 *    have had without hedging) and result `failed`; one failing while the other is pending:
 *    the race waits for the other.
 * Cost: one promise, the closures below and one deadline-queue entry per hedged request;
 * none of it exists for requests whose upstream does not hedge (the caller never calls this).
 */
import type { HedgeRefusal, HedgeResult } from '../resilience/hedge-results.ts';

export interface RaceTry<R> {
  /** Resolves with the response head, rejects with the try's failure. */
  readonly pending: Promise<R>;
  /** The try failed (ends it with `err`). */
  failed(err: unknown): void;
  /** The other try won: abort this one at once. */
  cancel(): void;
  /** This try's head came after the other's: drop it unrelayed. */
  discard(value: R): void;
}

/** Hedge delays: the deadline queue's `add` (pipeline/deadline-queue.ts) or a fake. */
export interface HedgeTimers {
  add(delayMs: number, onExpire: () => void): { cancel(): void };
}

export interface HedgeRaceInput<R> {
  readonly first: RaceTry<R>;
  readonly delayMs: number;
  readonly timers: HedgeTimers;
  readonly launch: () => RaceTry<R> | HedgeRefusal | null;
}

export type HedgeRaceOutcome<R> =
  | { readonly ok: true; readonly value: R; readonly winner: RaceTry<R>; readonly hedge: HedgeResult | null }
  | { readonly ok: false; readonly error: unknown; readonly hedge: HedgeResult | null };

export function hedgeRace<R>(input: HedgeRaceInput<R>): Promise<HedgeRaceOutcome<R>> {
  return new Promise<HedgeRaceOutcome<R>>((resolve) => {
    const { first } = input;
    let hedge: RaceTry<R> | null = null;
    let result: HedgeResult | null = null;
    let decided = false;
    let firstError: unknown = null;
    let firstFailed = false;
    let hedgeFailed = false;

    const timer = input.timers.add(input.delayMs, () => {
      if (decided || hedge !== null || result !== null) return;
      const launched = input.launch();
      if (launched === null) return;
      if (typeof launched === 'string') {
        result = launched;
        return;
      }
      hedge = launched;
      follow(launched);
    });

    const decide = (outcome: HedgeRaceOutcome<R>): void => {
      decided = true;
      timer.cancel();
      resolve(outcome);
    };

    const onHead = (t: RaceTry<R>, value: R): void => {
      if (decided) {
        t.discard(value);
        return;
      }
      if (hedge !== null) {
        result = t === first ? 'lost' : 'won';
        const loser = t === first ? hedge : first;
        if (!(loser === first ? firstFailed : hedgeFailed)) loser.cancel();
      }
      decide({ ok: true, value, winner: t, hedge: result });
    };

    const onFailure = (t: RaceTry<R>, err: unknown): void => {
      t.failed(err);
      if (t === first) {
        firstFailed = true;
        firstError = err;
      } else {
        hedgeFailed = true;
      }
      if (decided) return;
      // The first try failed before any hedge: the race is over (the caller may retry).
      if (hedge === null) {
        decide({ ok: false, error: err, hedge: result });
        return;
      }
      if (firstFailed && hedgeFailed) decide({ ok: false, error: firstError, hedge: 'failed' });
    };

    function follow(t: RaceTry<R>): void {
      t.pending.then(
        (value) => onHead(t, value),
        (err: unknown) => onFailure(t, err),
      );
    }

    follow(first);
  });
}
