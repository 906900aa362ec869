/**
 * The staged-rollout REST surface as the e2e suites use it (docs/rollout.md §6,
 * controlplane/src/rollout/rollout-control.ts): start a staged activation, read a rollout,
 * long-poll it, operate on it, and a short test policy (snake_case, docs/rollout.md §1) whose
 * soaks and deadlines fit in a test. Views are typed as far as the suites read them.
 */
import { eventually } from './eventually.ts';
import type { ApiResponse, ControlPlane } from './planes.ts';

export type RolloutStatus = 'running' | 'paused' | 'promoted' | 'rolled_back' | 'aborted';

export interface GateFailureView {
  rule: string;
  observed: number;
  limit: number;
  nodes?: string[];
}

export interface AckNumbersView {
  stageNodes: number;
  quorum: number;
  acked: number;
  nacked: string[];
  silent: string[];
  silentAre: 'pending' | 'unknown';
  cohort: number;
}

export interface GateNumbersView {
  acks: AckNumbersView;
  soakStartMs: number | null;
  soakEndMs: number | null;
  health: { candidate: { requests: number }; baseline: { requests: number } } | null;
}

export interface DecisionView {
  atMs: number;
  at: string;
  stage: number;
  kind: string;
  actor?: string;
  nodes?: string[];
  failures?: GateFailureView[];
  numbers?: GateNumbersView;
}

export interface RolloutView {
  id: string;
  scope: string;
  targetSeq: number;
  lkgSeq: number;
  status: RolloutStatus;
  final: boolean;
  currentStage: number;
  stages: Array<{ index: number; name: string; state: string; nodes: string[]; soakMs: number; startedAt: string | null }>;
  cohort: string[];
  lastEvaluation: { at: string; kind: string; numbers: GateNumbersView } | null;
  decisions: DecisionView[];
}

export interface StagedStart {
  readonly res: ApiResponse<RolloutView & { code?: string }>;
  /** The rollout id from `Location: /v1/rollouts/{id}` (empty when the answer was not 202). */
  readonly id: string;
}

/** Test policy: canary nodes (role=canary) → 40 % → the whole fleet, short soaks, in-node canary 20 %. */
export function testPolicy(over: { soakMs?: number; ackQuorum?: number; ackTimeoutMs?: number; minRequests?: number; canaryPercent?: number; stages?: unknown[] } = {}) {
  const soak = over.soakMs ?? 5_000;
  return {
    version: 1,
    stages: over.stages ?? [
      { name: 'canary', labels: { role: 'canary' }, min_nodes: 1, soak_ms: soak },
      { name: 'forty', percent: 40, soak_ms: soak },
      { name: 'fleet', percent: 100, soak_ms: 0 },
    ],
    gates: {
      ack_quorum: over.ackQuorum ?? 1,
      ack_timeout_ms: over.ackTimeoutMs ?? 15_000,
      nack_budget: 0,
      health: {
        min_requests: over.minRequests ?? 20,
        local_5xx: { max_ratio: 0.05, max_increase: 0.05 },
        upstream_5xx: { max_ratio: 0.05, max_increase: 0.05 },
        // Two shared cores: latency is noisy here; the suites test errors, not p99.
        p99: { max_ms: 10_000, max_factor: 20, min_increase_ms: 5_000 },
      },
    },
    canary: { percent: over.canaryPercent ?? 20, crash_window_ms: 30_000 },
    freeze_after: 2,
    resume_grace_ms: 5_000,
  };
}

/** `PUT /v1/scopes/{scope}/active {seq, strategy: "staged", policy}` with the current If-Match. */
export async function startStaged(cp: ControlPlane, scope: string, seq: number, policy: unknown, reason = 'e2e: staged rollout'): Promise<StagedStart> {
  const active = await cp.api<{ version: number }>('GET', `/v1/scopes/${scope}/active`);
  const res = await cp.api<RolloutView & { code?: string }>('PUT', `/v1/scopes/${scope}/active`, {
    reason,
    body: { seq, strategy: 'staged', policy },
    headers: { 'if-match': `"${active.body.version}"` },
  });
  const location = res.headers.get('location') ?? '';
  const m = /^\/v1\/rollouts\/([^/?#]+)$/.exec(location);
  return { res, id: res.status === 202 && m ? decodeURIComponent(m[1]!) : '' };
}

export async function getRollout(cp: ControlPlane, id: string): Promise<RolloutView> {
  const res = await cp.api<RolloutView>('GET', `/v1/rollouts/${encodeURIComponent(id)}`);
  if (res.status !== 200) throw new Error(`GET /v1/rollouts/${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * `GET /v1/rollouts/{id}/wait?timeout=<ms>` repeated until the rollout is final or `timeoutMs`
 * passed (each long-poll is at most 10 s, so a control plane that goes away is noticed).
 */
export async function waitFinal(cp: ControlPlane, id: string, timeoutMs = 60_000): Promise<RolloutView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = Math.max(1, Math.min(10_000, deadline - Date.now()));
    const res = await cp.api<RolloutView>('GET', `/v1/rollouts/${encodeURIComponent(id)}/wait?timeout=${left}ms`);
    if (res.status !== 200) throw new Error(`wait ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body.final) return res.body;
    if (Date.now() >= deadline) throw new Error(`rollout ${id} not final within ${timeoutMs} ms: ${summary(res.body)}`);
  }
}

/** `POST /v1/rollouts/{id}/{action}`. */
export function operate(cp: ControlPlane, id: string, action: 'pause' | 'resume' | 'promote' | 'abort', reason = `e2e: ${action}`) {
  return cp.api<{ rollout?: RolloutView; code?: string }>('POST', `/v1/rollouts/${encodeURIComponent(id)}/${action}`, { reason, body: {} });
}

/** Aborts the scope's live rollout, if any (cleanup between cases: the next start must not get 409). */
export async function abortLive(cp: ControlPlane, scope: string): Promise<void> {
  const list = await cp.api<{ items?: Array<{ id: string; status: string }> }>('GET', `/v1/rollouts?scope=${scope}`);
  for (const r of list.body.items ?? []) if (r.status === 'running' || r.status === 'paused') await operate(cp, r.id, 'abort', 'e2e: cleanup');
}

/** One line per decision, for assertion messages. */
export function summary(view: RolloutView): string {
  const lines = view.decisions.map((d) => `${d.stage}:${d.kind}${d.nodes ? `[${d.nodes.join(',')}]` : ''}${d.failures ? ` ${JSON.stringify(d.failures)}` : ''}`);
  return `${view.status} stage ${view.currentStage}: ${lines.join(' | ')}`;
}

/**
 * Resolves once the scope's last known good is `seq` (GET …/active `lkgSeq`): the control plane
 * sets it when the fleet's ACKs arrive, a moment after a node logged the apply, and a staged
 * start before it answers 409 fleet_not_converged.
 */
export async function waitLkg(cp: ControlPlane, scope: string, seq: number, timeoutMs = 20_000): Promise<void> {
  let last: unknown;
  await eventually(`scope ${scope} LKG ${seq}`, async () => {
    const res = await cp.api<{ lkgSeq: number | null }>('GET', `/v1/scopes/${scope}/active`);
    last = res.body;
    return res.body.lkgSeq === seq ? true : undefined;
  }, { timeoutMs, last: () => last });
}
