/**
 * hedgeRace over fake tries (promises the test settles) and a fake delay (fired by the test):
 * first head wins either way, the loser is cancelled, refusals are kept, a first try failing
 * before the delay ends the race with no hedge, both failing reports the first try's error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HedgeRefusal } from '../resilience/hedge-results.ts';
import { type HedgeTimers, hedgeRace, type RaceTry } from './hedge-race.ts';

interface FakeTry extends RaceTry<string> {
  readonly log: string[];
  head(value: string): void;
  fail(err: Error): void;
}

function fakeTry(name: string): FakeTry {
  const log: string[] = [];
  let resolveHead!: (v: string) => void;
  let rejectHead!: (e: Error) => void;
  const pending = new Promise<string>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  return {
    log,
    pending,
    head: (v) => resolveHead(v),
    fail: (e) => rejectHead(e),
    failed: (err) => log.push(`${name} failed: ${(err as Error).message}`),
    // A cancelled try fails as its transport would: the abort rejects the pending head.
    cancel: () => {
      log.push(`${name} cancelled`);
      rejectHead(new Error('cancelled'));
    },
    discard: (v) => log.push(`${name} discarded ${v}`),
  };
}

function fakeTimers(): HedgeTimers & { fire(): void; readonly armed: number; readonly cancelled: number } {
  let onExpire: (() => void) | null = null;
  let armed = 0;
  let cancelled = 0;
  return {
    add(_ms, fn) {
      armed++;
      onExpire = fn;
      return {
        cancel() {
          if (onExpire !== null) cancelled++;
          onExpire = null;
        },
      };
    },
    fire() {
      const fn = onExpire;
      onExpire = null;
      fn?.();
    },
    get armed() {
      return armed;
    },
    get cancelled() {
      return cancelled;
    },
  };
}

/** Lets settled promises' handlers run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('hedgeRace', () => {
  it('the first try answers before the delay: no hedge, timer cancelled', async () => {
    const first = fakeTry('first');
    const timers = fakeTimers();
    let launched = 0;
    const race = hedgeRace({ first, delayMs: 100, timers, launch: () => {
        launched++;
        return null;
      },
    });
    first.head('A');
    const out = await race;
    assert.deepEqual(out.ok && { value: out.value, winner: out.winner === first, hedge: out.hedge }, { value: 'A', winner: true, hedge: null });
    assert.equal(timers.cancelled, 1);
    timers.fire();
    assert.equal(launched, 0);
  });

  it('the hedge head comes first: the hedge wins, the first try is cancelled and ends failed (neutral for the caller)', async () => {
    const first = fakeTry('first');
    const second = fakeTry('hedge');
    const timers = fakeTimers();
    const race = hedgeRace({ first, delayMs: 100, timers, launch: () => second });
    timers.fire();
    second.head('B');
    const out = await race;
    assert.ok(out.ok);
    assert.equal(out.value, 'B');
    assert.equal(out.winner, second);
    assert.equal(out.hedge, 'won');
    await settle();
    assert.deepEqual(first.log, ['first cancelled', 'first failed: cancelled']);
    assert.deepEqual(second.log, []);
  });

  it('the first head comes first after the hedge was sent: the hedge loses and is cancelled', async () => {
    const first = fakeTry('first');
    const second = fakeTry('hedge');
    const timers = fakeTimers();
    const race = hedgeRace({ first, delayMs: 100, timers, launch: () => second });
    timers.fire();
    first.head('A');
    const out = await race;
    assert.ok(out.ok);
    assert.equal(out.winner, first);
    assert.equal(out.hedge, 'lost');
    await settle();
    assert.deepEqual(second.log, ['hedge cancelled', 'hedge failed: cancelled']);
  });

  it('a head that arrives after the race was decided is discarded', async () => {
    const first = fakeTry('first');
    const log: string[] = [];
    let lateHead!: (v: string) => void;
    const second: RaceTry<string> = {
      pending: new Promise<string>((resolve) => {
        lateHead = resolve;
      }),
      failed: () => log.push('failed'),
      cancel: () => log.push('cancelled'), // does not reject: the head was already on its way
      discard: (v) => log.push(`discarded ${v}`),
    };
    const timers = fakeTimers();
    const race = hedgeRace({ first, delayMs: 100, timers, launch: () => second });
    timers.fire();
    first.head('A'); // both settle in the same turn: the first's handler runs first
    lateHead('late');
    const out = await race;
    assert.ok(out.ok);
    assert.equal(out.winner, first);
    await settle();
    assert.deepEqual(log, ['cancelled', 'discarded late']);
  });

  for (const refusal of ['refused_budget', 'refused_brownout', 'refused_deadline', 'no_alternate'] as const satisfies readonly HedgeRefusal[]) {
    it(`a refused hedge (${refusal}) is not sent: the first try's answer, with the refusal`, async () => {
      const first = fakeTry('first');
      const timers = fakeTimers();
      const race = hedgeRace({ first, delayMs: 100, timers, launch: () => refusal });
      timers.fire();
      first.head('A');
      const out = await race;
      assert.ok(out.ok);
      assert.equal(out.winner, first);
      assert.equal(out.hedge, refusal);
    });
  }

  it('the first try fails before the delay: the race fails at once, no hedge is ever launched', async () => {
    const first = fakeTry('first');
    const timers = fakeTimers();
    let launched = 0;
    const race = hedgeRace({
      first,
      delayMs: 100,
      timers,
      launch: () => {
        launched++;
        return fakeTry('hedge');
      },
    });
    first.fail(new Error('connect'));
    const out = await race;
    assert.ok(!out.ok);
    assert.equal((out.error as Error).message, 'connect');
    assert.equal(out.hedge, null);
    assert.deepEqual(first.log, ['first failed: connect']);
    timers.fire();
    assert.equal(launched, 0);
  });

  it('the first try fails after the hedge was sent: the hedge is awaited and wins', async () => {
    const first = fakeTry('first');
    const second = fakeTry('hedge');
    const timers = fakeTimers();
    const race = hedgeRace({ first, delayMs: 100, timers, launch: () => second });
    timers.fire();
    first.fail(new Error('reset'));
    await settle();
    second.head('B');
    const out = await race;
    assert.ok(out.ok);
    assert.equal(out.winner, second);
    assert.equal(out.hedge, 'won');
    assert.deepEqual(first.log, ['first failed: reset']); // failed on its own: never cancelled
  });

  it('both fail: the first try error is reported, result failed, each ended once', async () => {
    for (const order of ['hedge first', 'first first'] as const) {
      const first = fakeTry('first');
      const second = fakeTry('hedge');
      const timers = fakeTimers();
      const race = hedgeRace({ first, delayMs: 100, timers, launch: () => second });
      timers.fire();
      if (order === 'hedge first') {
        second.fail(new Error('hedge timeout'));
        await settle();
        first.fail(new Error('first timeout'));
      } else {
        first.fail(new Error('first timeout'));
        await settle();
        second.fail(new Error('hedge timeout'));
      }
      const out = await race;
      assert.ok(!out.ok, order);
      assert.equal((out.error as Error).message, 'first timeout', order);
      assert.equal(out.hedge, 'failed', order);
      assert.deepEqual(first.log, ['first failed: first timeout'], order);
      assert.deepEqual(second.log, ['hedge failed: hedge timeout'], order);
    }
  });
});
