/**
 * The rollout policy of a scope (docs/rollout.md, "Policy document"): ordered, cumulative stages
 * of cohorts, the gates every stage must pass, the in-node canary and the freeze rule. Pure: the
 * caller reads the document (JSON or YAML) and stores it; this file gives the types, the defaults
 * and `parseRolloutPolicy`, which is strict (unknown keys are issues at every level) and answers
 * with the same `{pointer, code, message}` issues as configs.
 */
import type { ConfigIssue } from '@spooky/config';
import { escapePointer } from '@spooky/config';
import { type Reader, readIntMs, readNumber, readObject, readString } from './policy-reader.ts';

/** Bound on stages: a rollout is a handful of steps, not a schedule. */
export const MAX_STAGES = 10;
/** Bound on label pairs in one stage selector. */
export const MAX_STAGE_LABELS = 8;
/** Longest soak, ack timeout or crash window: one day. */
export const MAX_DURATION_MS = 86_400_000;

/** One stage: the nodes it adds to the cohort and how long they soak before the next stage. */
export interface StagePolicy {
  readonly name: string;
  /** Node labels every selected node must carry (AND of equalities); empty: every node. */
  readonly labels: Readonly<Record<string, string>>;
  /** Share of the nodes matching `labels` the cohort must cover, in (0, 100]. Default 100. */
  readonly percent: number;
  /** The stage fails when its cohort has fewer nodes than this by the ACK deadline. Default 1. */
  readonly min_nodes: number;
  /** Time the stage's cohort serves the target after the ACK quorum, before the health verdict. Default 0. */
  readonly soak_ms: number;
}

/** Health thresholds on a ratio (5xx responses / requests): absolute, and relative to the baseline. */
export interface RatioThreshold {
  /** Candidate ratio above this fails, whatever the baseline does. */
  readonly max_ratio: number;
  /** Candidate ratio above baseline ratio + this fails (percentage points as a fraction). */
  readonly max_increase: number;
}

export interface LatencyThreshold {
  /** Candidate p99 above this fails, whatever the baseline does. */
  readonly max_ms: number;
  /** Candidate p99 above baseline p99 × this fails … */
  readonly max_factor: number;
  /** … but only when it is also more than this many ms above the baseline (noise floor). */
  readonly min_increase_ms: number;
}

export interface HealthGatePolicy {
  /** Fewer requests than this in the candidate or in the baseline: missing data, a failed gate. */
  readonly min_requests: number;
  readonly local_5xx: RatioThreshold;
  readonly upstream_5xx: RatioThreshold;
  readonly p99: LatencyThreshold;
}

export interface GatePolicy {
  /** Share of the cohort that must ACK by the deadline, in (0, 1]; the count is rounded up. */
  readonly ack_quorum: number;
  /** From the push of a stage to its ACK deadline; a node silent by then is `unknown`. */
  readonly ack_timeout_ms: number;
  /** NACKs a stage tolerates; one more fails it at once. */
  readonly nack_budget: number;
  readonly health: HealthGatePolicy;
}

/** The in-node canary: what the control plane tells a node during its soak (docs/rollout.md). */
export interface CanaryPolicy {
  /** Share of a node's new requests (by client address hash) sent to the candidate; 0 turns it off. */
  readonly percent: number;
  /** A node that crashes within this long after applying the candidate falls back by itself. */
  readonly crash_window_ms: number;
}

export interface RolloutPolicy {
  readonly version: 1;
  readonly stages: readonly StagePolicy[];
  readonly gates: GatePolicy;
  readonly canary: CanaryPolicy;
  /** Consecutive automatic rollbacks in a scope that freeze it. Default 2. */
  readonly freeze_after: number;
  /** After a control-plane restart the ACK deadline of the current stage is at least now + this. */
  readonly resume_grace_ms: number;
  /**
   * What `PUT …/active` without `strategy` does in the scope that stores this policy. Default
   * `staged`: storing a policy is what makes a scope a production scope. (A scope with no stored
   * policy activates `immediate`ly, whatever DEFAULT_ROLLOUT_POLICY says.) Policies stored
   * before this member existed read as `staged`.
   */
  readonly default_strategy: 'staged' | 'immediate';
}

export const GATE_DEFAULTS: GatePolicy = {
  ack_quorum: 0.95,
  ack_timeout_ms: 120_000,
  nack_budget: 0,
  health: {
    min_requests: 200,
    local_5xx: { max_ratio: 0.01, max_increase: 0.005 },
    upstream_5xx: { max_ratio: 0.05, max_increase: 0.01 },
    p99: { max_ms: 5_000, max_factor: 1.5, min_increase_ms: 20 },
  },
};

export const CANARY_DEFAULTS: CanaryPolicy = { percent: 5, crash_window_ms: 120_000 };

/** The policy of a scope that has none stored: canary nodes, then a quarter, then everyone. */
export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = {
  version: 1,
  stages: [
    { name: 'canary', labels: { role: 'canary' }, percent: 100, min_nodes: 1, soak_ms: 300_000 },
    { name: 'quarter', labels: {}, percent: 25, min_nodes: 1, soak_ms: 600_000 },
    { name: 'fleet', labels: {}, percent: 100, min_nodes: 1, soak_ms: 0 },
  ],
  gates: GATE_DEFAULTS,
  canary: CANARY_DEFAULTS,
  freeze_after: 2,
  resume_grace_ms: 30_000,
  default_strategy: 'staged',
};

export type PolicyResult =
  | { readonly ok: true; readonly policy: RolloutPolicy }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9._-]{0,63}$/;
const STAGE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const STRATEGY = /^(staged|immediate)$/;

/**
 * Validates a parsed policy document and fills defaults. Every problem is reported (not only the
 * first), each with a JSON Pointer into `input`. Rules beyond types and ranges: at least one stage,
 * stage names unique, the last stage selects every node (no labels, 100 %) so a promoted rollout
 * has reached the whole fleet, and percent stages without labels never shrink (stages are
 * cumulative: a smaller share later would promise something it cannot do).
 */
export function parseRolloutPolicy(input: unknown): PolicyResult {
  const issues: ConfigIssue[] = [];
  const r: Reader = { issues };
  const root = readObject(r, input, '', [
    'version',
    'stages',
    'gates',
    'canary',
    'freeze_after',
    'resume_grace_ms',
    'default_strategy',
  ]);
  if (root === null) return { ok: false, issues };
  const version = readNumber(r, root, 'version', '', 1, { min: 1, max: 1, int: true });
  const stages = readStages(r, root['stages']);
  const gates = readGates(r, root['gates']);
  const canary = readCanary(r, root['canary']);
  const freezeAfter = readNumber(r, root, 'freeze_after', '', DEFAULT_ROLLOUT_POLICY.freeze_after, {
    min: 1,
    max: 100,
    int: true,
  });
  const resumeGrace = readIntMs(r, root, 'resume_grace_ms', '', DEFAULT_ROLLOUT_POLICY.resume_grace_ms, MAX_DURATION_MS);
  const strategy = readString(r, root, 'default_strategy', '', DEFAULT_ROLLOUT_POLICY.default_strategy, STRATEGY);
  if (issues.length === 0) checkBaseline(r, stages, canary);
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    policy: {
      version: version as 1,
      stages,
      gates,
      canary,
      freeze_after: freezeAfter,
      resume_grace_ms: resumeGrace,
      default_strategy: strategy as RolloutPolicy['default_strategy'],
    },
  };
}

function readStages(r: Reader, value: unknown): StagePolicy[] {
  if (value === undefined) return [...DEFAULT_ROLLOUT_POLICY.stages];
  if (!Array.isArray(value)) {
    r.issues.push({ pointer: '/stages', code: 'rollout.type', message: 'stages must be an array' });
    return [];
  }
  if (value.length === 0 || value.length > MAX_STAGES) {
    const message = `stages must hold 1 to ${MAX_STAGES} stages, not ${value.length}`;
    r.issues.push({ pointer: '/stages', code: 'rollout.stages.count', message });
    return [];
  }
  const stages: StagePolicy[] = [];
  value.forEach((raw, i) => {
    const stage = readStage(r, raw, `/stages/${i}`, i);
    if (stage !== null) stages.push(stage);
  });
  if (stages.length === value.length) checkStageOrder(r, stages);
  return stages;
}

function readStage(r: Reader, raw: unknown, ptr: string, index: number): StagePolicy | null {
  const o = readObject(r, raw, ptr, ['name', 'labels', 'percent', 'min_nodes', 'soak_ms']);
  if (o === null) return null;
  const before = r.issues.length;
  const name = readString(r, o, 'name', ptr, `stage-${index + 1}`, STAGE_NAME);
  const labels = readLabels(r, o['labels'], `${ptr}/labels`);
  const percent = readNumber(r, o, 'percent', ptr, 100, { min: 0, max: 100, exclusiveMin: true });
  const minNodes = readNumber(r, o, 'min_nodes', ptr, 1, { min: 1, max: 100_000, int: true });
  const soak = readIntMs(r, o, 'soak_ms', ptr, 0, MAX_DURATION_MS);
  if (r.issues.length > before) return null;
  return { name, labels, percent, min_nodes: minNodes, soak_ms: soak };
}

function readLabels(r: Reader, value: unknown, ptr: string): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    r.issues.push({ pointer: ptr, code: 'rollout.type', message: 'labels must be an object of key: value' });
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_STAGE_LABELS) {
    const message = `a stage selects by at most ${MAX_STAGE_LABELS} labels`;
    r.issues.push({ pointer: ptr, code: 'rollout.stage.labels_count', message });
  }
  const labels: Record<string, string> = {};
  for (const [key, v] of entries) {
    const p = `${ptr}/${escapePointer(key)}`;
    if (!LABEL_KEY.test(key)) {
      r.issues.push({ pointer: p, code: 'rollout.stage.label_key', message: 'label keys are 1–63 of [A-Za-z0-9._/-]' });
    } else if (typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      r.issues.push({ pointer: p, code: 'rollout.stage.label_value', message: 'label values are strings of 0–63 [A-Za-z0-9._-]' });
    } else {
      labels[key] = v;
    }
  }
  return labels;
}

function checkStageOrder(r: Reader, stages: readonly StagePolicy[]): void {
  const seen = new Set<string>();
  let widest = 0;
  stages.forEach((s, i) => {
    if (seen.has(s.name)) {
      r.issues.push({ pointer: `/stages/${i}/name`, code: 'rollout.stage.duplicate', message: `stage name "${s.name}" is used twice` });
    }
    seen.add(s.name);
    if (Object.keys(s.labels).length > 0) return;
    if (s.percent < widest) {
      const message = `stages are cumulative: ${s.percent} % is less than an earlier stage's ${widest} %`;
      r.issues.push({ pointer: `/stages/${i}/percent`, code: 'rollout.stage.percent_decreasing', message });
    }
    widest = Math.max(widest, s.percent);
  });
  const last = stages[stages.length - 1];
  if (last !== undefined && (Object.keys(last.labels).length > 0 || last.percent !== 100)) {
    const message = 'the last stage must select every node (no labels, percent 100)';
    r.issues.push({ pointer: `/stages/${stages.length - 1}`, code: 'rollout.stage.last_not_fleet', message });
  }
}

/**
 * The health gate compares the candidate with the LKG. Once a stage covers the whole fleet only
 * the in-node canary's serving share still runs the LKG; without it (canary percent 0) a soak in
 * that stage could never pass (missing data fails), so it is refused here rather than at 3 a.m.
 */
function checkBaseline(r: Reader, stages: readonly StagePolicy[], canary: CanaryPolicy): void {
  if (canary.percent > 0) return;
  stages.forEach((s, i) => {
    if (s.soak_ms > 0 && Object.keys(s.labels).length === 0 && s.percent === 100) {
      const message = 'a stage over the whole fleet has no baseline to soak against unless canary.percent > 0; use soak_ms 0';
      r.issues.push({ pointer: `/stages/${i}/soak_ms`, code: 'rollout.stage.no_baseline', message });
    }
  });
}

function readGates(r: Reader, value: unknown): GatePolicy {
  const d = GATE_DEFAULTS;
  if (value === undefined) return d;
  const o = readObject(r, value, '/gates', ['ack_quorum', 'ack_timeout_ms', 'nack_budget', 'health']);
  if (o === null) return d;
  return {
    ack_quorum: readNumber(r, o, 'ack_quorum', '/gates', d.ack_quorum, { min: 0, max: 1, exclusiveMin: true }),
    ack_timeout_ms: readIntMs(r, o, 'ack_timeout_ms', '/gates', d.ack_timeout_ms, MAX_DURATION_MS, 1_000),
    nack_budget: readNumber(r, o, 'nack_budget', '/gates', d.nack_budget, { min: 0, max: 100_000, int: true }),
    health: readHealth(r, o['health']),
  };
}

function readHealth(r: Reader, value: unknown): HealthGatePolicy {
  const d = GATE_DEFAULTS.health;
  if (value === undefined) return d;
  const ptr = '/gates/health';
  const o = readObject(r, value, ptr, ['min_requests', 'local_5xx', 'upstream_5xx', 'p99']);
  if (o === null) return d;
  return {
    min_requests: readNumber(r, o, 'min_requests', ptr, d.min_requests, { min: 1, max: 1e9, int: true }),
    local_5xx: readRatio(r, o['local_5xx'], `${ptr}/local_5xx`, d.local_5xx),
    upstream_5xx: readRatio(r, o['upstream_5xx'], `${ptr}/upstream_5xx`, d.upstream_5xx),
    p99: readLatency(r, o['p99'], `${ptr}/p99`, d.p99),
  };
}

function readRatio(r: Reader, value: unknown, ptr: string, d: RatioThreshold): RatioThreshold {
  if (value === undefined) return d;
  const o = readObject(r, value, ptr, ['max_ratio', 'max_increase']);
  if (o === null) return d;
  return {
    max_ratio: readNumber(r, o, 'max_ratio', ptr, d.max_ratio, { min: 0, max: 1 }),
    max_increase: readNumber(r, o, 'max_increase', ptr, d.max_increase, { min: 0, max: 1 }),
  };
}

function readLatency(r: Reader, value: unknown, ptr: string, d: LatencyThreshold): LatencyThreshold {
  if (value === undefined) return d;
  const o = readObject(r, value, ptr, ['max_ms', 'max_factor', 'min_increase_ms']);
  if (o === null) return d;
  return {
    max_ms: readIntMs(r, o, 'max_ms', ptr, d.max_ms, 3_600_000, 1),
    max_factor: readNumber(r, o, 'max_factor', ptr, d.max_factor, { min: 1, max: 100 }),
    min_increase_ms: readIntMs(r, o, 'min_increase_ms', ptr, d.min_increase_ms, 3_600_000),
  };
}

function readCanary(r: Reader, value: unknown): CanaryPolicy {
  const d = CANARY_DEFAULTS;
  if (value === undefined) return d;
  const o = readObject(r, value, '/canary', ['percent', 'crash_window_ms']);
  if (o === null) return d;
  return {
    percent: readNumber(r, o, 'percent', '/canary', d.percent, { min: 0, max: 50 }),
    crash_window_ms: readIntMs(r, o, 'crash_window_ms', '/canary', d.crash_window_ms, MAX_DURATION_MS),
  };
}
