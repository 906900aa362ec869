/**
 * Micro-benchmark of the resilience decision modules (plain node script):
 *
 *   node bench/src/resilience.bench.ts [--ms 200]
 *
 * What one request pays when every feature is configured but none triggers: a retry budget
 * primary + check, a breaker available/acquire/release, global+upstream+backend in-flight
 * permits, an adaptive admission permit and latency sample, a brownout observe + shed check,
 * and two rate-limit rules (client IP over 1 024 keys, route). Plus decideRetry on its own, and
 * the admitRequest stage as a small GET runs it with the default config (no rate rules,
 * brownout off, adaptive admission on and not limiting): `run` + its deferred release, which
 * feeds one latency sample.
 * Prints CPU ns/op (user + system, median of 5 runs) as a Markdown table.
 */
import type { ScopedRateLimit } from '@spooky/config';
import { RESILIENCE_DEFAULTS } from '@spooky/config';
import { createAdmitRequest } from '../../dataplane/src/pipeline/admit-request.ts';
import type { RequestContext } from '../../dataplane/src/pipeline/context.ts';
import { AdaptiveAdmission } from '../../dataplane/src/resilience/adaptive-admission.ts';
import { Brownout } from '../../dataplane/src/resilience/brownout.ts';
import { breakerVerdict, CircuitBreaker } from '../../dataplane/src/resilience/circuit-breaker.ts';
import { decideRetry, type RetryFacts } from '../../dataplane/src/resilience/decide-retry.ts';
import { InflightLimiter } from '../../dataplane/src/resilience/inflight-limiter.ts';
import { RetryBudgets } from '../../dataplane/src/resilience/retry-budget.ts';
import { RouteQueue } from '../../dataplane/src/resilience/route-queue.ts';
import { type RateLimitRequest, ScopedRateLimiters } from '../../dataplane/src/resilience/token-bucket-limiter.ts';
import type { LongLivedState } from '../../dataplane/src/runtime/long-lived-state.ts';

const msArg = process.argv.indexOf('--ms');
const RUN_MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 200;

function measure(op: (i: number) => number): number {
  const runs: number[] = [];
  for (let i = 0; i < 20_000; i++) op(i);
  for (let r = 0; r < 5; r++) {
    let ops = 0;
    let sink = 0;
    const cpu = process.cpuUsage();
    const end = performance.now() + RUN_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 1000; i++) sink += op(ops + i);
      ops += 1000;
    }
    const used = process.cpuUsage(cpu);
    if (sink === -1) console.log('unreachable');
    runs.push(((used.user + used.system) * 1000) / ops);
  }
  return runs.sort((a, b) => a - b)[2] as number;
}

const rule = (name: string, scope: ScopedRateLimit['scope']): ScopedRateLimit => ({
  name,
  scope,
  requests_per_sec: 1e6,
  burst: 1e6,
  key: null,
  route_allowlist: [],
  idle_ttl_secs: 300,
  shadow: false,
});
const requests: RateLimitRequest[] = Array.from({ length: 1024 }, (_, i) => ({
  upstream: 'api',
  clientIp: `198.51.100.${i & 255}.${i >> 8}`,
  method: 'GET',
  authority: 'bench.example',
  path: `/items/${i}`,
  connectionId: null,
  header: () => undefined,
  cookie: () => undefined,
  query: () => undefined,
}));

const budgets = new RetryBudgets({ enabled: true, ratioPercent: 10 });
const window = budgets.forUpstream('api', 10);
const breaker = new CircuitBreaker(RESILIENCE_DEFAULTS.circuit_breaker);
const inflight = new InflightLimiter(4096);
const upstreamGauge = inflight.upstream('api', 1024);
const backendGauge = inflight.backend('api\u0000http://10.0.0.1:80', 64);
const admission = new AdaptiveAdmission(RESILIENCE_DEFAULTS.adaptive_admission, 4096);
const brownout = new Brownout({ ...RESILIENCE_DEFAULTS.brownout, enabled: true, core_routes: ['core'] });
const limiters = new ScopedRateLimiters([rule('per-client', 'client'), rule('per-route', 'route')]);
const outcome = { failure: null, status: 200, clientAborted: false };

const rows: Array<[string, number]> = [];
const t0 = performance.now();
rows.push(['retry budget: recordPrimary + canRetry', measure((i) => {
  budgets.recordPrimary(window, t0 + i);
  return budgets.canRetry(window, t0 + i) ? 1 : 0;
})]);
rows.push(['circuit breaker: available + acquire + release', measure((i) => {
  const ok = breaker.available(i) ? 1 : 0;
  breaker.release(breaker.acquire(i), breakerVerdict(outcome, false), i);
  return ok;
})]);
rows.push(['in-flight: admit + backend + releases', measure(() => {
  const r = inflight.admit(upstreamGauge) === null && inflight.acquireBackend(backendGauge) === null ? 1 : 0;
  backendGauge.release();
  inflight.release(upstreamGauge);
  return r;
})]);
rows.push(['adaptive admission: acquire + sample + release', measure((i) => {
  const r = admission.tryAcquire() === null ? 1 : 0;
  admission.recordLatency(i & 63);
  admission.release();
  return r;
})]);
rows.push(['brownout: observe + shed', measure((i) => (brownout.observe(i & 1023, 4096) ? 1 : 0) + (brownout.shed('api') === null ? 1 : 0))]);
rows.push(['rate limits: 2 rules, 1 024 client keys', measure((i) => (limiters.check(requests[i & 1023] as RateLimitRequest, t0 + i / 1000).verdict === 'allow' ? 1 : 0))]);
const facts: RetryFacts = {
  method: 'GET', attempts: 1, failure: 'connect_failure', status: null, responseRelayed: false, requestSent: false,
  bodyReplayable: true, remainingMs: 10_000, alternatesLeft: 2, clientAborted: false, budgetAllows: true,
};
const refused: RetryFacts = { ...facts, alternatesLeft: 0 };
rows.push(['decideRetry (retry)', measure((i) => (decideRetry(facts, RESILIENCE_DEFAULTS.retries, () => (i & 7) / 8).retry ? 1 : 0))]);
rows.push(['decideRetry (refusal)', measure(() => (decideRetry(refused, RESILIENCE_DEFAULTS.retries).retry ? 1 : 0))]);

// The admitRequest stage with the default config, on a context reduced to what it reads.
const stageState = {
  rateLimits: new ScopedRateLimiters([]),
  inflight: new InflightLimiter(4096),
  admission: new AdaptiveAdmission(RESILIENCE_DEFAULTS.adaptive_admission, 4096),
  brownout: new Brownout({ ...RESILIENCE_DEFAULTS.brownout, core_routes: [] }),
  routeQueue: new RouteQueue<() => void, () => boolean>({ ...RESILIENCE_DEFAULTS.route_queue, caps: {} }),
};
const stage = createAdmitRequest({ state: stageState as unknown as LongLivedState, random: Math.random });
const benchCtx: { deferred: (() => void)[] | null; [k: string]: unknown } = {
  upstream: { name: 'api', inflight: stageState.inflight.upstream('api', 1024) },
  generation: { config: { resilience: { route_queue: RESILIENCE_DEFAULTS.route_queue } } },
  attempts: [{ startedAt: 1, headersAt: 3 }],
  shed: null,
  deferred: null,
  defer(fn: () => void): void {
    if (benchCtx.deferred === null) benchCtx.deferred = [fn];
    else benchCtx.deferred.push(fn);
  },
};
const stageCtx = benchCtx as unknown as RequestContext;
rows.push(['admitRequest stage, default config: run + deferred release', measure(() => {
  stageCtx.deferred = null;
  const r = stage.run(stageCtx) === 'continue' ? 1 : 0;
  const fns = stageCtx.deferred as (() => void)[] | null;
  if (fns !== null) for (let i = fns.length - 1; i >= 0; i--) (fns[i] as () => void)();
  return r;
})]);

const total = rows.slice(0, 6).reduce((s, [, ns]) => s + ns, 0);
console.log(`| decision | CPU ns/op |\n| --- | ---: |`);
for (const [name, ns] of rows) console.log(`| ${name} | ${ns.toFixed(1)} |`);
console.log(`| **all six per request (not triggering)** | **${total.toFixed(1)}** |`);
