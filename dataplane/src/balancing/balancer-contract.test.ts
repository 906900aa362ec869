/**
 * THE balancer contract, one case file every policy passes (balancer.ts): only candidates are
 * picked, excluded backends never are, alternates differ from what was tried, null when
 * nothing is eligible, weights respected where the policy is weighted, deterministic where
 * the policy says so.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LbType } from '@spooky/config';
import type { BackendStats } from '../runtime/backend-stats.ts';
import type { Balancer, WeightedBackend } from './balancer.ts';
import { allBackends, eligibleBackends } from './candidates.ts';
import { createBalancer } from './create-balancer.ts';
import { createRoundRobinState } from './round-robin.ts';
import { backendsOf, ctxOf, distinctRequest, drive, requestOf, seeded, statsFor } from './testing/balancer-fixtures.ts';

interface Policy {
  readonly type: LbType;
  readonly key: string | null;
  /** Distribution follows weights (over distinct keys for hash policies). */
  readonly weighted: boolean;
  /** Same request + same state → same pick, repeatedly (key-based policies). */
  readonly sticky: boolean;
}

const POLICIES: readonly Policy[] = [
  { type: 'round-robin', key: null, weighted: true, sticky: false },
  { type: 'random', key: null, weighted: true, sticky: false },
  { type: 'consistent-hash', key: 'header:x-user', weighted: true, sticky: true },
  { type: 'consistent-hash', key: null, weighted: false, sticky: true },
  { type: 'sticky-cid', key: null, weighted: true, sticky: true },
  { type: 'least-connections', key: null, weighted: true, sticky: false },
  { type: 'latency-aware', key: null, weighted: false, sticky: false },
];

function make(policy: Policy, backends: readonly WeightedBackend[]): { balancer: Balancer; stats: BackendStats[] } {
  const stats = statsFor(backends.length);
  const balancer = createBalancer({ type: policy.type, key: policy.key }, backends, {
    roundRobinState: () => createRoundRobinState(backends.length),
    backendStats: stats,
    random: seeded(11),
  });
  return { balancer, stats };
}

for (const policy of POLICIES) {
  describe(`balancer contract: ${policy.type}${policy.key === null ? '' : ` (${policy.key})`}`, () => {
    test('reports its type', () => assert.equal(make(policy, backendsOf(1)).balancer.type, policy.type));

    test('a single candidate is always picked', () => {
      const { balancer, stats } = make(policy, backendsOf(100));
      assert.deepEqual(drive(balancer, stats, allBackends(1), 20), [20]);
    });

    test('only candidates are picked', () => {
      const { balancer, stats } = make(policy, backendsOf(1, 1, 1, 1, 1));
      const counts = drive(balancer, stats, [1, 3], 400);
      assert.equal((counts[0] ?? 0) + (counts[2] ?? 0) + (counts[4] ?? 0), 0, `counts ${counts}`);
      assert.equal((counts[1] ?? 0) + (counts[3] ?? 0), 400);
    });

    test('excluded backends are never picked', () => {
      const { balancer, stats } = make(policy, backendsOf(1, 1, 1, 1));
      const counts = drive(balancer, stats, allBackends(4), 400, new Set([0, 2]));
      assert.equal((counts[0] ?? 0) + (counts[2] ?? 0), 0, `counts ${counts}`);
    });

    test('an alternate differs from every backend already tried', () => {
      const { balancer } = make(policy, backendsOf(1, 2, 3, 1, 2));
      for (let i = 0; i < 200; i++) {
        const request = distinctRequest(i);
        const tried = new Set<number>();
        for (let attempt = 0; attempt < 5; attempt++) {
          const next = balancer.pick(allBackends(5), ctxOf(request, tried));
          assert.notEqual(next, null);
          assert.ok(!tried.has(next as number), `attempt ${attempt} repeated ${next}`);
          tried.add(next as number);
        }
        assert.equal(balancer.pick(allBackends(5), ctxOf(request, tried)), null, 'all tried → null');
      }
    });

    test('nothing eligible → null', () => {
      const { balancer } = make(policy, backendsOf(1, 2));
      assert.equal(balancer.pick([], ctxOf(requestOf())), null);
      assert.equal(balancer.pick(allBackends(2), ctxOf(requestOf(), new Set([0, 1]))), null);
      assert.equal(balancer.pick([1], ctxOf(requestOf(), new Set([1]))), null);
      assert.equal(make(policy, []).balancer.pick(allBackends(0), ctxOf(requestOf())), null);
    });

    test('a null request is still served', () => {
      const { balancer } = make(policy, backendsOf(1, 1));
      assert.notEqual(balancer.pick(allBackends(2), ctxOf(null)), null);
    });

    if (policy.weighted) {
      test('distribution follows weights (3:1, then 1:2:1 over a subset)', () => {
        const n = 8000;
        const a = make(policy, backendsOf(300, 100));
        const share = (drive(a.balancer, a.stats, allBackends(2), n)[0] ?? 0) / n;
        assert.ok(Math.abs(share - 0.75) < 0.03, `share ${share}`);
        const b = make(policy, backendsOf(5, 1, 2, 1));
        const counts = drive(b.balancer, b.stats, [1, 2, 3], n);
        for (const [i, expected] of [[1, 0.25], [2, 0.5], [3, 0.25]] as const) {
          const s = (counts[i] ?? 0) / n;
          assert.ok(Math.abs(s - expected) < 0.03, `backend ${i}: ${s}`);
        }
      });
    }

    if (policy.sticky) {
      test('the same request always goes to the same backend', () => {
        const { balancer } = make(policy, backendsOf(1, 1, 1, 1));
        for (let i = 0; i < 50; i++) {
          const request = distinctRequest(i);
          const first = balancer.pick(allBackends(4), ctxOf(request));
          for (let r = 0; r < 5; r++) assert.equal(balancer.pick(allBackends(4), ctxOf(request)), first);
        }
      });
    } else {
      test('the same state gives the same decision (two fresh balancers agree)', () => {
        if (policy.type === 'random') return; // random is deterministic only for a given RandomSource
        const a = make(policy, backendsOf(2, 1, 3));
        const b = make(policy, backendsOf(2, 1, 3));
        assert.deepEqual(drive(a.balancer, a.stats, allBackends(3), 60), drive(b.balancer, b.stats, allBackends(3), 60));
      });
    }
  });
}

describe('candidates', () => {
  test('allBackends is shared', () => {
    assert.equal(allBackends(3), allBackends(3));
    assert.deepEqual(allBackends(3), [0, 1, 2]);
  });
  test('eligibleBackends returns the shared list when everyone is available', () => {
    assert.equal(eligibleBackends(4, () => true), allBackends(4));
    assert.equal(eligibleBackends(4, null), allBackends(4));
    assert.deepEqual(eligibleBackends(5, (i) => i % 2 === 0), [0, 2, 4]);
    assert.deepEqual(eligibleBackends(3, () => false), []);
  });
});
