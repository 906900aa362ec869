/**
 * Fuzz: hedgeRace under generated schedules. A schedule is a sequence of events (first head,
 * first failure, the delay firing, hedge head, hedge failure), each applied after the previous
 * one's promise handlers ran; `launch` answers with a hedge, a refusal or null; a cancelled try
 * either rejects at once (the usual abort) or not (its head was already on its way). Whatever
 * is still pending at the end fails. Properties, against a small reference model of the
 * contract (hedge-race.ts):
 *   - the race settles exactly once; launch runs at most once, only when the delay fired while
 *     the first try was pending;
 *   - ok ⇔ some try's head settled before the race was decided by failures, and the winner is
 *     the first head to settle; the result is won / lost when a hedge was sent, the refusal (or
 *     null) otherwise; not ok ⇒ the error is the first try's, result `failed` when a hedge was
 *     sent;
 *   - every try that rejected got `failed` exactly once, no try that resolved did; `cancel` ran
 *     at most once, only on the loser, only while it was pending; `discard` ran exactly for
 *     heads that settled after the decision.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { HedgeRefusal } from '../resilience/hedge-results.ts';
import { cpuMs, fuzzRuns, PER_INPUT_CPU_MS } from '../testing/fuzz-runs.ts';
import { type HedgeRaceOutcome, hedgeRace, type RaceTry } from './hedge-race.ts';

type Event = 'firstHead' | 'firstFail' | 'fire' | 'hedgeHead' | 'hedgeFail';
type Launch = 'hedge' | HedgeRefusal | null;

interface Probe extends RaceTry<string> {
  readonly name: 'first' | 'hedge';
  settled: 'head' | 'failed' | null;
  failedCalls: number;
  cancelCalls: number;
  cancelledWhilePending: boolean;
  discards: number;
  head(): boolean;
  fail(): boolean;
}

function probe(name: 'first' | 'hedge', cancelRejects: boolean, order: string[]): Probe {
  let resolveHead!: (v: string) => void;
  let rejectHead!: (e: Error) => void;
  const p: Probe = {
    name,
    settled: null,
    failedCalls: 0,
    cancelCalls: 0,
    cancelledWhilePending: false,
    discards: 0,
    pending: new Promise<string>((resolve, reject) => {
      resolveHead = resolve;
      rejectHead = reject;
    }),
    head() {
      if (p.settled !== null) return false;
      p.settled = 'head';
      order.push(`${name}:head`);
      resolveHead(name);
      return true;
    },
    fail() {
      if (p.settled !== null) return false;
      p.settled = 'failed';
      order.push(`${name}:fail`);
      rejectHead(new Error(`${name} error`));
      return true;
    },
    failed: () => {
      p.failedCalls++;
    },
    cancel: () => {
      p.cancelCalls++;
      if (p.settled === null) p.cancelledWhilePending = true;
      if (cancelRejects) p.fail();
    },
    discard: () => {
      p.discards++;
    },
  };
  return p;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const schedule = fc.record({
  events: fc.array(fc.constantFrom<Event>('firstHead', 'firstFail', 'fire', 'hedgeHead', 'hedgeFail'), { maxLength: 8 }),
  launch: fc.constantFrom<Launch>('hedge', 'hedge', 'hedge', 'refused_budget', 'refused_brownout', 'refused_deadline', 'no_alternate', null),
  firstCancelRejects: fc.boolean(),
  hedgeCancelRejects: fc.boolean(),
});

describe('fuzz hedgeRace', () => {
  test('schedules of heads, failures, delay and launch answers keep the race contract', async (t) => {
    let inputs = 0;
    await fc.assert(
      fc.asyncProperty(schedule, async ({ events, launch, firstCancelRejects, hedgeCancelRejects }) => {
        inputs++;
        const startedCpu = cpuMs();
        const order: string[] = [];
        const first = probe('first', firstCancelRejects, order);
        // Boxes: assigned inside callbacks, read here (no narrowing across them).
        const box: { hedge: Probe | null; onExpire: (() => void) | null; outcome: HedgeRaceOutcome<string> | null } = { hedge: null, onExpire: null, outcome: null };
        let launches = 0;
        let firedWhileFirstPending = false;
        let resolutions = 0;
        hedgeRace<string>({
          first,
          delayMs: 100,
          timers: {
            add: (_ms, fn) => {
              box.onExpire = fn;
              return {
                cancel: () => {
                  box.onExpire = null;
                },
              };
            },
          },
          launch: () => {
            launches++;
            if (launch !== 'hedge') return launch;
            order.push('hedge:launch');
            const h = probe('hedge', hedgeCancelRejects, order);
            box.hedge = h;
            return h;
          },
        }).then((o) => {
          resolutions++;
          box.outcome = o;
        });
        for (const e of events) {
          if (e === 'fire') {
            const fn = box.onExpire;
            box.onExpire = null;
            if (fn !== null) {
              if (first.settled === null) firedWhileFirstPending = true;
              fn();
            }
          } else if (e === 'firstHead') first.head();
          else if (e === 'firstFail') first.fail();
          else if (e === 'hedgeHead') box.hedge?.head();
          else box.hedge?.fail();
          await settle();
        }
        first.fail();
        box.hedge?.fail();
        await settle();

        // Reference model over the settlement order.
        const sent = box.hedge !== null;
        let expectedWinner: string | null = null;
        let launched = false;
        let failedFirst = false;
        let failedHedge = false;
        for (const step of order) {
          const [who, what] = step.split(':') as ['first' | 'hedge', 'head' | 'fail' | 'launch'];
          if (what === 'launch') {
            launched = true;
            continue;
          }
          if (what === 'head') {
            expectedWinner = who;
            break;
          }
          if (who === 'first') failedFirst = true;
          else failedHedge = true;
          // Decided by failures: the first failing with no hedge sent yet, or both failed.
          if ((who === 'first' && !launched) || (failedFirst && failedHedge)) break;
        }

        assert.equal(resolutions, 1, 'settled exactly once');
        assert.ok(launches <= 1, 'launch at most once');
        assert.equal(launches, firedWhileFirstPending ? 1 : 0, 'launch only when the delay fired with the first try pending');
        const out = box.outcome;
        assert.ok(out !== null);
        if (expectedWinner !== null) {
          assert.ok(out.ok, `expected a winner (${order.join(' ')})`);
          assert.equal(out.value, expectedWinner);
          assert.equal(out.hedge, sent ? (expectedWinner === 'first' ? 'lost' : 'won') : launches === 1 ? launch : null);
        } else {
          assert.ok(!out.ok, `expected a failure (${order.join(' ')})`);
          assert.equal((out.error as Error).message, 'first error');
          assert.equal(out.hedge, sent ? 'failed' : launches === 1 ? launch : null);
        }
        const tries: Probe[] = box.hedge === null ? [first] : [first, box.hedge];
        for (const p of tries) {
          assert.equal(p.failedCalls, p.settled === 'failed' ? 1 : 0, `${p.name}: failed once per rejection`);
          const isLoser: boolean = out.ok && out.value !== p.name;
          assert.ok(p.cancelCalls <= 1, `${p.name}: cancelled at most once`);
          if (p.cancelCalls === 1) assert.ok(isLoser && p.cancelledWhilePending, `${p.name}: only the pending loser is cancelled`);
          const headAfterDecision: boolean = p.settled === 'head' && !(out.ok && out.value === p.name);
          assert.equal(p.discards, headAfterDecision ? 1 : 0, `${p.name}: late heads discarded`);
        }
        assert.ok(cpuMs() - startedCpu < PER_INPUT_CPU_MS);
      }),
      { numRuns: fuzzRuns(1000) },
    );
    t.diagnostic(`fuzz hedge-race: ${inputs} inputs, 0 failures`);
    console.log(`fuzz hedge-race: ${inputs} inputs, 0 failures`);
  });
});

