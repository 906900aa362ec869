/**
 * The health gate of a stage (docs/rollout.md, "Gates"): the candidate (the target generation on
 * the cohort) against the baseline (the LKG generation on every node that serves it, including
 * the baseline share of in-node canaries), over the windows that began inside the soak. Pure.
 *
 * Rules, each with the numbers behind it:
 *  - `health.samples`: candidate or baseline below `min_requests` — missing data is a failure at
 *    the end of the soak, never a pass; during the soak it only means "not yet".
 *  - `health.<local|upstream>_5xx.ratio`: candidate ratio > max_ratio.
 *  - `health.<local|upstream>_5xx.increase`: candidate ratio − baseline ratio > max_increase.
 *  - `health.p99.max`: candidate p99 > max_ms.
 *  - `health.p99.factor`: candidate p99 > max(baseline p99 × max_factor, baseline p99 + min_increase_ms);
 *    observed and limit are in ms (every number is finite, so a decision stores as JSON).
 */
import { type LatencyHistogram, mergeHistograms, quantileMs } from './latency-histogram.ts';
import type { HealthGatePolicy, RatioThreshold } from './rollout-policy.ts';

/** What one node served with one generation over [fromMs, toMs) (a `Report` window). */
export interface HealthWindow {
  readonly seq: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly requests: number;
  /** Responses the proxy made itself with a 5xx (no route to a healthy backend, timeouts, …). */
  readonly local5xx: number;
  /** 5xx responses relayed from backends. */
  readonly upstream5xx: number;
  readonly latency: LatencyHistogram;
}

/** The sum of a group's windows; ratios and p99 are null without requests. */
export interface GroupHealth {
  readonly nodes: number;
  readonly windows: number;
  /** Windows left out because their histogram was malformed or of another layout. */
  readonly droppedWindows: number;
  readonly requests: number;
  readonly local5xxRatio: number | null;
  readonly upstream5xxRatio: number | null;
  readonly p99Ms: number | null;
}

export interface GateFailure {
  readonly rule: string;
  readonly observed: number;
  readonly limit: number;
  /** Nodes the failure is about (unknown or NACKing nodes), when it is about nodes. */
  readonly nodes?: readonly string[];
}

export interface HealthNumbers {
  readonly candidate: GroupHealth;
  readonly baseline: GroupHealth;
}

/** Sums the windows of generation `seq` that began at or after `sinceMs`, per group of nodes. */
export function groupHealth(
  windowsByNode: ReadonlyMap<string, readonly HealthWindow[]>,
  nodes: Iterable<string>,
  seq: number,
  sinceMs: number,
): GroupHealth {
  const picked: HealthWindow[] = [];
  let nodeCount = 0;
  for (const id of nodes) {
    const mine = (windowsByNode.get(id) ?? []).filter((w) => w.seq === seq && w.fromMs >= sinceMs && valid(w));
    if (mine.length > 0) nodeCount++;
    picked.push(...mine);
  }
  const { merged, dropped } = mergeHistograms(picked.map((w) => w.latency));
  const requests = sum(picked, (w) => w.requests);
  return {
    nodes: nodeCount,
    windows: picked.length,
    droppedWindows: dropped,
    requests,
    local5xxRatio: requests > 0 ? sum(picked, (w) => w.local5xx) / requests : null,
    upstream5xxRatio: requests > 0 ? sum(picked, (w) => w.upstream5xx) / requests : null,
    p99Ms: merged === null ? null : quantileMs(merged, 0.99),
  };
}

/**
 * The failed rules of the health gate. With `final` false (the soak is still running) only rules
 * whose data is sufficient are checked and too few samples is no failure; with `final` true too
 * few samples fails `health.samples`, and a rule whose number is missing fails too.
 */
export function healthFailures(policy: HealthGatePolicy, h: HealthNumbers, final: boolean): GateFailure[] {
  const failures: GateFailure[] = [];
  const candidateOk = h.candidate.requests >= policy.min_requests;
  const baselineOk = h.baseline.requests >= policy.min_requests;
  if (final && !(candidateOk && baselineOk)) {
    const observed = Math.min(h.candidate.requests, h.baseline.requests);
    failures.push({ rule: 'health.samples', observed, limit: policy.min_requests });
    return failures;
  }
  if (!candidateOk) return failures;
  const c = h.candidate;
  const b = baselineOk ? h.baseline : null;
  ratioRules(failures, 'local_5xx', policy.local_5xx, c.local5xxRatio, b?.local5xxRatio ?? null);
  ratioRules(failures, 'upstream_5xx', policy.upstream_5xx, c.upstream5xxRatio, b?.upstream5xxRatio ?? null);
  const p = policy.p99;
  if (c.p99Ms === null) {
    if (final) failures.push({ rule: 'health.p99.missing', observed: 0, limit: 1 });
    return failures;
  }
  if (c.p99Ms > p.max_ms) failures.push({ rule: 'health.p99.max', observed: c.p99Ms, limit: p.max_ms });
  if (b === null) return failures;
  if (b.p99Ms === null) {
    if (final) failures.push({ rule: 'health.p99.missing', observed: 0, limit: 1 });
    return failures;
  }
  const limit = Math.max(b.p99Ms * p.max_factor, b.p99Ms + p.min_increase_ms);
  if (c.p99Ms > limit) failures.push({ rule: 'health.p99.factor', observed: c.p99Ms, limit });
  return failures;
}

function ratioRules(
  out: GateFailure[],
  name: string,
  t: RatioThreshold,
  candidate: number | null,
  baseline: number | null,
): void {
  if (candidate === null) return;
  if (candidate > t.max_ratio) out.push({ rule: `health.${name}.ratio`, observed: candidate, limit: t.max_ratio });
  if (baseline === null) return;
  // Rounded to 1e-12 so that 0.3 − 0.1 is not "more" than an increase of 0.2.
  const increase = Math.round((candidate - baseline) * 1e12) / 1e12;
  if (increase > t.max_increase) out.push({ rule: `health.${name}.increase`, observed: increase, limit: t.max_increase });
}

/** A window with impossible counts is left out (and so counts as missing data). */
function valid(w: HealthWindow): boolean {
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  return whole(w.requests) && whole(w.local5xx) && whole(w.upstream5xx) && w.local5xx + w.upstream5xx <= w.requests && w.toMs >= w.fromMs;
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  let total = 0;
  for (const item of items) total += f(item);
  return total;
}
