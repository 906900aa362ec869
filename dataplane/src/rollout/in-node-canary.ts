/**
 * The in-node canary (docs/rollout.md, "In-node canary"): while a node soaks a candidate
 * generation N+1 next to the serving N, which new requests go to N+1, and when the node falls
 * back to N on its own. Pure: no clock, no sockets; the request path and the apply journal call it.
 *
 * The split is by CLIENT ADDRESS, hashed with the candidate's digest as salt:
 *  - one client sees one generation on this node, on every connection and protocol (HTTP/3, or
 *    its TCP fallback), so no page is assembled from two route tables and a client's retry is
 *    not silently healed by the other generation;
 *  - the blast radius is a share of clients, not a share of every client's requests;
 *  - the salt changes with every candidate, so the same clients are not the guinea pigs of every
 *    rollout.
 * The request's connection id stands in when the ingress has no address; with neither, the
 * request goes to the serving generation (never a guess). Known limits: many users behind one
 * NAT address move together; a QUIC client that migrates to a new address may change sides.
 * A per-request hash (request id) would give a more exact share but mix generations per client.
 */

/** Buckets of the split: percent is honoured to 0.01. */
const BUCKETS = 10_000;

/** What the control plane tells a node soaking a candidate (proto, later). */
export interface CanaryAssignment {
  /** Digest of the candidate generation; the salt of the split. */
  readonly candidateDigest: string;
  /** Share of new requests for the candidate, in [0, 50]. */
  readonly percent: number;
  /** The local safety net's thresholds (proto CanaryAssignment); absent: no local check. */
  readonly thresholds?: CanaryThresholds;
  /** A restart this soon after holding the candidate, without a clean stop, falls back (decideAtStart). */
  readonly crashWindowMs?: number;
}

/** The request's keys for the split, as the ingress knows them. */
export interface SplitKey {
  readonly remoteAddress: string | null;
  readonly connectionId?: string | null;
}

/** 32-bit FNV-1a with a murmur3 finalizer: cheap per request, well spread in the low digits. */
export function splitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * True when this request goes to the candidate. Stable: the same client (address, else
 * connection) and candidate always give the same answer. A share of 0 sends nothing.
 */
export function routesToCandidate(assignment: CanaryAssignment, key: SplitKey): boolean {
  if (!(assignment.percent > 0)) return false;
  const client = key.remoteAddress ?? key.connectionId ?? null;
  if (client === null || client === '') return false;
  const bucket = splitHash(`${assignment.candidateDigest}\n${client}`) % BUCKETS;
  return bucket < Math.round(assignment.percent * (BUCKETS / 100));
}

/** What one generation served on this node since the candidate was applied. */
export interface GenerationStats {
  readonly requests: number;
  /** Local plus upstream 5xx responses. */
  readonly errors5xx: number;
  /** From the node's latency histogram of this generation; null without requests. */
  readonly p99Ms: number | null;
}

/** The thresholds the control plane sends with the assignment (from the rollout policy's health gate). */
export interface CanaryThresholds {
  /** Fewer requests on either generation: no evidence yet, keep the candidate. */
  readonly minRequests: number;
  readonly maxErrorRatio: number;
  /** Candidate error ratio − serving error ratio above this regresses. */
  readonly maxErrorIncrease: number;
  /** Candidate p99 above max(serving p99 × maxP99Factor, serving p99 + minP99IncreaseMs) regresses. */
  readonly maxP99Factor: number;
  /** The noise floor of the latency rule, in ms. */
  readonly minP99IncreaseMs: number;
}

/** One failed rule; for `p99_factor` observed and limit are in ms. */
export interface RegressionFinding {
  readonly rule: 'error_ratio' | 'error_increase' | 'p99_factor';
  readonly observed: number;
  readonly limit: number;
}

export type CanaryDecision =
  /** Keep soaking; `evidence` false means too few requests to judge yet. */
  | { readonly kind: 'keep'; readonly evidence: boolean }
  /** Serve N only, NACK N+1 with `findings` (the control plane fails its gate on the NACK). */
  | { readonly kind: 'fall-back'; readonly findings: readonly RegressionFinding[] };

/**
 * The local safety net, called after each stats window. It acts only on evidence: too few
 * requests keeps the candidate (the control plane's gate, not the node, treats missing data as
 * a failure, so a quiet node never flaps). Same rules as the control plane's health gate, on one
 * node, candidate against its own serving generation (same node, same time, same clients' mix).
 */
export function checkCanary(t: CanaryThresholds, candidate: GenerationStats, serving: GenerationStats): CanaryDecision {
  if (candidate.requests < t.minRequests || serving.requests < t.minRequests) return { kind: 'keep', evidence: false };
  const findings: RegressionFinding[] = [];
  const c = candidate.errors5xx / candidate.requests;
  const s = serving.errors5xx / serving.requests;
  if (c > t.maxErrorRatio) findings.push({ rule: 'error_ratio', observed: c, limit: t.maxErrorRatio });
  const increase = Math.round((c - s) * 1e12) / 1e12;
  if (increase > t.maxErrorIncrease) findings.push({ rule: 'error_increase', observed: increase, limit: t.maxErrorIncrease });
  const cp = candidate.p99Ms;
  const sp = serving.p99Ms;
  if (cp !== null && sp !== null) {
    const limit = Math.max(sp * t.maxP99Factor, sp + t.minP99IncreaseMs);
    if (cp > limit) findings.push({ rule: 'p99_factor', observed: cp, limit });
  }
  return findings.length > 0 ? { kind: 'fall-back', findings } : { kind: 'keep', evidence: true };
}

/** What the apply journal on disk says about the candidate, read at the next start. */
export interface CandidateRecord {
  readonly candidateDigest: string;
  readonly appliedAtMs: number;
  /** The process recorded a clean stop (drain finished) after applying it. */
  readonly cleanStop: boolean;
}

export type StartDecision =
  | { readonly kind: 'no-candidate' }
  /** Hold the candidate again (the control plane re-asserts it anyway). */
  | { readonly kind: 'resume-candidate' }
  /** The process died within the crash window after applying N+1: serve N, NACK N+1. */
  | { readonly kind: 'fall-back'; readonly sinceApplyMs: number };

/**
 * Decides, at start, whether the previous process crashed because of the candidate: it was
 * applied, the process did not stop cleanly, and it started again less than `crashWindowMs`
 * after the apply. A crash later than the window is not blamed on the candidate.
 */
export function decideAtStart(record: CandidateRecord | null, nowMs: number, crashWindowMs: number): StartDecision {
  if (record === null) return { kind: 'no-candidate' };
  const sinceApplyMs = nowMs - record.appliedAtMs;
  if (!record.cleanStop && sinceApplyMs >= 0 && sinceApplyMs < crashWindowMs) return { kind: 'fall-back', sinceApplyMs };
  return { kind: 'resume-candidate' };
}
