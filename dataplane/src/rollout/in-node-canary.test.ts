import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CanaryThresholds,
  checkCanary,
  decideAtStart,
  type GenerationStats,
  routesToCandidate,
  splitHash,
} from './in-node-canary.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
/** 5 000 distinct client addresses, IPv4 and IPv6 mixed, as an edge sees them. */
const CLIENTS = Array.from({ length: 5_000 }, (_, i) =>
  i % 2 === 0 ? `198.51.${(i >> 8) & 255}.${i & 255}` : `2001:db8::${i.toString(16)}`,
);

describe('routesToCandidate: the split', () => {
  for (const percent of [1, 2.5, 5, 10, 50]) {
    it(`sends ≈ ${percent} % of 5 000 clients to the candidate (± 1 %)`, () => {
      const share = CLIENTS.filter((a) => routesToCandidate({ candidateDigest: DIGEST, percent }, { remoteAddress: a })).length / CLIENTS.length;
      assert.ok(Math.abs(share - percent / 100) <= 0.01, `share was ${share}`);
    });
  }

  it('is stable: the same client always gets the same side, whatever its connection', () => {
    const a = { candidateDigest: DIGEST, percent: 5 };
    for (const client of CLIENTS.slice(0, 500)) {
      const first = routesToCandidate(a, { remoteAddress: client, connectionId: 'c1' });
      assert.equal(routesToCandidate(a, { remoteAddress: client, connectionId: 'c2' }), first);
      assert.equal(routesToCandidate(a, { remoteAddress: client }), first);
    }
  });

  it('another candidate picks other clients (the salt is the candidate digest)', () => {
    const pick = (digest: string) => CLIENTS.filter((c) => routesToCandidate({ candidateDigest: digest, percent: 5 }, { remoteAddress: c }));
    const one = new Set(pick(DIGEST));
    const other = pick(`sha256:${'cd'.repeat(32)}`);
    const overlap = other.filter((c) => one.has(c)).length;
    assert.ok(overlap < other.length / 4, `overlap ${overlap} of ${other.length}`);
  });

  it('a larger share keeps every client of a smaller one (raising the percent never flips a client back)', () => {
    for (const c of CLIENTS) {
      if (routesToCandidate({ candidateDigest: DIGEST, percent: 2 }, { remoteAddress: c })) {
        assert.ok(routesToCandidate({ candidateDigest: DIGEST, percent: 5 }, { remoteAddress: c }));
      }
    }
  });

  const keys: ReadonlyArray<[string, number, { remoteAddress: string | null; connectionId?: string | null }, boolean | 'either']> = [
    ['share 0 sends nothing', 0, { remoteAddress: '198.51.100.1' }, false],
    ['no address and no connection id: the serving generation', 50, { remoteAddress: null, connectionId: null }, false],
    ['an empty address: the serving generation', 50, { remoteAddress: '' }, false],
    ['no address: the connection id stands in', 50, { remoteAddress: null, connectionId: 'conn-7' }, 'either'],
  ];
  for (const [name, percent, key, expected] of keys) {
    it(name, () => {
      const got = routesToCandidate({ candidateDigest: DIGEST, percent }, key);
      if (expected === 'either') assert.equal(got, routesToCandidate({ candidateDigest: DIGEST, percent }, { remoteAddress: 'conn-7' }));
      else assert.equal(got, expected);
    });
  }

  it('the hash is 32-bit unsigned and deterministic', () => {
    assert.equal(splitHash('x'), splitHash('x'));
    for (const c of CLIENTS.slice(0, 100)) {
      const h = splitHash(c);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });
});

describe('checkCanary: the local regression check', () => {
  const T: CanaryThresholds = { minRequests: 100, maxErrorRatio: 0.02, maxErrorIncrease: 0.005, maxP99Factor: 1.5, minP99IncreaseMs: 20 };
  const g = (requests: number, errors5xx: number, p99Ms: number | null): GenerationStats => ({ requests, errors5xx, p99Ms });
  const table: ReadonlyArray<[string, GenerationStats, GenerationStats, string]> = [
    ['healthy candidate: keep with evidence', g(200, 0, 40), g(4_000, 4, 40), 'keep:true'],
    ['too few candidate requests: keep without evidence, even with errors', g(99, 99, 9_000), g(4_000, 0, 40), 'keep:false'],
    ['too few serving requests: keep without evidence', g(500, 0, 40), g(10, 0, 40), 'keep:false'],
    ['error ratio above the ceiling (and the increase)', g(200, 10, 40), g(4_000, 0, 40), 'fall-back:error_ratio,error_increase'],
    ['error ratio under the ceiling but up by more than the increase', g(1_000, 15, 40), g(4_000, 20, 40), 'fall-back:error_increase'],
    ['errors as bad as the serving generation under the ceiling: keep', g(1_000, 15, 40), g(4_000, 60, 40), 'keep:true'],
    ['p99 doubled and 40 ms up', g(1_000, 0, 80), g(4_000, 0, 40), 'fall-back:p99_factor'],
    ['p99 doubled but only 5 ms up: noise, keep', g(1_000, 0, 10), g(4_000, 0, 5), 'keep:true'],
    ['p99 unknown on one side: the latency rule is not applied', g(1_000, 0, null), g(4_000, 0, 40), 'keep:true'],
  ];
  for (const [name, candidate, serving, expected] of table) {
    it(name, () => {
      const d = checkCanary(T, candidate, serving);
      const got = d.kind === 'keep' ? `keep:${d.evidence}` : `fall-back:${d.findings.map((f) => f.rule).join(',')}`;
      assert.equal(got, expected);
    });
  }

  it('a fall-back carries the numbers for the NACK', () => {
    const d = checkCanary(T, g(200, 10, 40), g(4_000, 0, 40));
    assert.deepEqual(d.kind === 'fall-back' && d.findings[0], { rule: 'error_ratio', observed: 0.05, limit: 0.02 });
  });
});

describe('decideAtStart: the crash window', () => {
  const rec = (appliedAtMs: number, cleanStop: boolean) => ({ candidateDigest: DIGEST, appliedAtMs, cleanStop });
  const table: ReadonlyArray<[string, ReturnType<typeof rec> | null, number, string]> = [
    ['no candidate recorded', null, 10_000, 'no-candidate'],
    ['crashed 30 s after applying, window 120 s: fall back', rec(0, false), 30_000, 'fall-back'],
    ['crashed 121 s after applying: not blamed on the candidate', rec(0, false), 121_000, 'resume-candidate'],
    ['exactly at the window: outside it', rec(0, false), 120_000, 'resume-candidate'],
    ['stopped cleanly 1 s after applying: resume', rec(0, true), 1_000, 'resume-candidate'],
    ['the clock went back (apply in the future): not a crash verdict', rec(50_000, false), 10_000, 'resume-candidate'],
  ];
  for (const [name, record, now, expected] of table) {
    it(name, () => assert.equal(decideAtStart(record, now, 120_000).kind, expected));
  }
});
