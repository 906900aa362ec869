/**
 * Fuzz: the route queue (both lanes) and the adaptive admission limit against simple models,
 * on generated operation sequences. Properties:
 *   - route queue: every enqueue is accepted iff the model has room (per-upstream cap over
 *     both lanes, global cap); every shift returns the model's oldest waiter of that upstream
 *     and lane; remove succeeds exactly for waiters still queued; lengths always agree; the
 *     queue is empty once everything is shifted or removed (nothing leaks);
 *   - adaptive admission: the limit stays within [min_limit, max]; tryAcquire refuses exactly
 *     when enabled and active ≥ limit; the limit moves only on latency samples.
 * Each sequence is short (≤ 200 operations), so each input is bounded in time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cpuMs, fuzzRuns, PER_INPUT_CPU_MS } from '../testing/fuzz-runs.ts';
import { AdaptiveAdmission } from './adaptive-admission.ts';
import { type QueueTicket, RouteQueue } from './route-queue.ts';

const UPSTREAMS = ['a', 'b', 'c'] as const;
type Op =
  | { readonly kind: 'enqueue' | 'shift'; readonly lane: 'backend' | 'upstream'; readonly upstream: (typeof UPSTREAMS)[number] }
  | { readonly kind: 'remove'; readonly pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('enqueue' as const, 'shift' as const), lane: fc.constantFrom('backend' as const, 'upstream' as const), upstream: fc.constantFrom(...UPSTREAMS) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(1000) }),
);

test('fuzz route-queue: both lanes agree with a FIFO model under the caps, and drain to empty', () => {
  const runs = fuzzRuns(1000);
  fc.assert(
    fc.property(fc.nat(6), fc.nat(10), fc.nat(4), fc.array(op, { maxLength: 200 }), (defaultCap, globalCap, capA, ops) => {
      const started = cpuMs();
      const q = new RouteQueue<number, number>({ default_cap: defaultCap, global_cap: globalCap, caps: { a: capA } });
      const model = new Map<string, number[]>();
      const key = (lane: string, upstream: string) => `${lane}/${upstream}`;
      const perUpstream = (u: string) => (model.get(key('backend', u))?.length ?? 0) + (model.get(key('upstream', u))?.length ?? 0);
      const total = () => [...model.values()].reduce((n, l) => n + l.length, 0);
      const tickets: Array<{ id: number; lane: 'backend' | 'upstream'; upstream: string; ticket: QueueTicket<number> }> = [];
      let next = 0;
      for (const o of ops) {
        if (o.kind === 'enqueue') {
          const cap = o.upstream === 'a' ? capA : defaultCap;
          const room = total() < globalCap && perUpstream(o.upstream) < cap;
          const id = next++;
          const t = o.lane === 'backend' ? q.enqueue(o.upstream, id) : q.enqueueUpstream(o.upstream, id);
          assert.equal(typeof t !== 'string', room, `enqueue ${o.lane} ${o.upstream}`);
          if (typeof t !== 'string') {
            const list = model.get(key(o.lane, o.upstream)) ?? [];
            list.push(id);
            model.set(key(o.lane, o.upstream), list);
            tickets.push({ id, lane: o.lane, upstream: o.upstream, ticket: t });
          } else assert.equal(t, 'queue_full');
        } else if (o.kind === 'shift') {
          const got = o.lane === 'backend' ? q.shift(o.upstream) : q.shiftUpstream(o.upstream);
          assert.equal(got, model.get(key(o.lane, o.upstream))?.shift(), `shift ${o.lane} ${o.upstream}`);
        } else if (o.kind === 'remove' && tickets.length > 0) {
          const t = tickets[o.pick % tickets.length];
          assert.ok(t);
          const list = model.get(key(t.lane, t.upstream)) ?? [];
          const at = list.indexOf(t.id);
          assert.equal(q.remove(t.upstream, t.ticket), at >= 0, 'remove iff still queued');
          if (at >= 0) list.splice(at, 1);
        }
        assert.equal(q.length(), total());
        for (const u of UPSTREAMS) assert.equal(q.length(u), perUpstream(u));
        assert.equal(q.upstreamWaiting, UPSTREAMS.reduce((n, u) => n + (model.get(key('upstream', u))?.length ?? 0), 0));
      }
      for (const u of UPSTREAMS) {
        while (q.shift(u) !== undefined);
        while (q.shiftUpstream(u) !== undefined);
      }
      assert.deepEqual([q.length(), q.upstreamWaiting], [0, 0], 'drained: nothing leaks');
      assert.ok(cpuMs() - started < PER_INPUT_CPU_MS);
    }),
    { numRuns: runs },
  );
  console.log(`fuzz route-queue: ${runs} inputs, 0 failures`);
});

type AdmissionOp = { readonly kind: 'acquire' } | { readonly kind: 'release' } | { readonly kind: 'sample'; readonly ms: number };
const admissionOp: fc.Arbitrary<AdmissionOp> = fc.oneof(
  fc.constant({ kind: 'acquire' as const }),
  fc.constant({ kind: 'release' as const }),
  fc.record({ kind: fc.constant('sample' as const), ms: fc.nat(1000) }),
);

test('fuzz adaptive-admission: the limit stays in range and moves only on samples; refusals exactly at the limit', () => {
  const runs = fuzzRuns(1000);
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 1, max: 20 }),
      fc.option(fc.integer({ min: 1, max: 40 })),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 8 }),
      fc.nat(1000),
      fc.integer({ min: 1, max: 40 }),
      fc.array(admissionOp, { maxLength: 200 }),
      (enabled, minLimit, maxLimit, dec, inc, highMs, globalLimit, ops) => {
        const started = cpuMs();
        const policy = { enabled, min_limit: minLimit, max_limit: maxLimit, decrease_step: dec, increase_step: inc, high_latency_ms: highMs };
        const adm = new AdaptiveAdmission(policy, globalLimit);
        const max = Math.max(minLimit, maxLimit ?? globalLimit);
        let active = 0;
        for (const o of ops) {
          const before = adm.limit;
          if (o.kind === 'acquire') {
            const refused = enabled && active >= before;
            assert.equal(adm.tryAcquire(), refused ? 'admission_limit' : null);
            if (!refused) active++;
          } else if (o.kind === 'release') {
            adm.release();
            if (active > 0) active--;
          } else {
            adm.recordLatency(o.ms);
            const expected = !enabled ? before : o.ms > highMs ? Math.max(minLimit, before - dec) : Math.min(max, before + inc);
            assert.equal(adm.limit, expected, 'sample');
          }
          if (o.kind !== 'sample') assert.equal(adm.limit, before, 'only samples move the limit');
          assert.ok(adm.limit >= minLimit && adm.limit <= max, 'in range');
          assert.equal(adm.active, active);
        }
        assert.ok(cpuMs() - started < PER_INPUT_CPU_MS);
      },
    ),
    { numRuns: runs },
  );
  console.log(`fuzz adaptive-admission: ${runs} inputs, 0 failures`);
});
