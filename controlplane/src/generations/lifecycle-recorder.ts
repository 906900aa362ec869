/**
 * The NodeRecorder the gRPC distribution server talks to (wired in compose.ts). Each fact runs
 * in ONE write transaction that updates the node record (through the node registry, which
 * ignores facts from an older boot), appends the node's history and the event log, and then
 * draws the lifecycle conclusions:
 *   - a NACK with retryable=false marks the rejected generation `failed` (audit
 *     `generation.failed`, event `generation.failed`), once;
 *   - after every fact (and after every activation, via `reevaluate`), the active generation
 *     becomes the scope's LKG when nextLkg says so (audit `generation.lkg`, event).
 * Facts from an older boot update nothing here either.
 *
 * A candidate ACK (staged rollout, in-node canary: the node holds the generation beside the one
 * it serves) is history and an event (`node.acked` with `candidate: true`; history phase
 * "candidate"), but NOT a serve: the node record keeps what the node serves, so neither the
 * LKG rule nor the fleet's convergence counts a node that only holds a generation as serving it.
 */
import type {
  GenerationRef,
  NodeCandidate,
  NodeHelloFacts,
  NodeNackFacts,
  NodeRecorder,
  NodeServingSource,
} from '../distribution/ports.ts';
import type { EventSink, LifecycleRepo, NodeHistory } from './lifecycle-ports.ts';
import { blocksLkg, nextLkg } from './lkg-decision.ts';
import type { AuditLog, Clock, GenerationRepo, NodeReader, NodeView } from './ports.ts';

export interface LifecycleRecorderDeps {
  /** The node records (SqliteNodeRegistry). */
  readonly registry: NodeRecorder & NodeReader;
  readonly repo: GenerationRepo;
  readonly lifecycle: LifecycleRepo;
  readonly history: NodeHistory;
  readonly events: EventSink;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

const MAX_REASON_CHARS = 500;
/** History `phase` of an ACK of a candidate (lifecycle-ports.ts NodeHistoryEntry). */
export const CANDIDATE_ACK_PHASE = 'candidate';

export class LifecycleRecorder implements NodeRecorder {
  readonly #d: LifecycleRecorderDeps;
  /**
   * Per scope, a node that kept the active digest from becoming LKG at the last evaluation.
   * While it still blocks, the rule is false without listing every node: a rollout to N
   * nodes then costs about N node reads instead of N² row reads (each Ack and Report evaluates).
   */
  readonly #blockers = new Map<string, { readonly digest: string; readonly nodeId: string }>();

  constructor(deps: LifecycleRecorderDeps) {
    this.#d = deps;
  }

  connected(facts: NodeHelloFacts): void {
    this.#d.repo.transaction(() => {
      this.#d.registry.connected(facts);
      const at = facts.at.toISOString();
      const ref = facts.serving;
      this.#d.history.record(facts.nodeId, {
        kind: 'connected',
        bootId: facts.bootId,
        seq: ref?.seq ?? null,
        digest: ref?.digest ?? null,
        phase: null,
        at,
      });
      // A candidate the node says it holds (Hello.candidate) is as good as its candidate ACK, which
      // may have been lost with the stream (the control plane restarted between push and ACK).
      const held = facts.candidate ?? null;
      if (held !== null) {
        this.#d.history.record(facts.nodeId, { kind: 'acked', bootId: facts.bootId, seq: held.seq, digest: held.digest, phase: CANDIDATE_ACK_PHASE, at });
      }
      this.#event('node.connected', facts.scope, at, {
        nodeId: facts.nodeId,
        bootId: facts.bootId,
        serving: ref ? { seq: ref.seq, digest: ref.digest } : null,
        source: facts.source,
      });
      this.#evaluate(facts.scope);
    });
  }

  /** A candidate ACK (in-node canary) is recorded as an ACK in the history; the node's `serving` stays. */
  acked(nodeId: string, bootId: string, applied: GenerationRef, at: Date, candidate = false, candidatePercent?: number): void {
    this.#d.repo.transaction(() => {
      const node = this.#current(nodeId, bootId);
      this.#d.registry.acked(nodeId, bootId, applied, at, candidate, candidatePercent);
      if (!node) return;
      const when = at.toISOString();
      const phase = candidate ? CANDIDATE_ACK_PHASE : null;
      this.#d.history.record(nodeId, { kind: 'acked', bootId, seq: applied.seq, digest: applied.digest, phase, at: when });
      this.#event('node.acked', node.scope, when, { nodeId, seq: applied.seq, digest: applied.digest, ...(candidate ? { candidate: true } : {}) });
      if (!candidate) this.#evaluate(node.scope);
    });
  }

  nacked(facts: NodeNackFacts): void {
    this.#d.repo.transaction(() => {
      const node = this.#current(facts.nodeId, facts.bootId);
      this.#d.registry.nacked(facts);
      if (!node) return;
      const at = facts.at.toISOString();
      const { seq, digest } = facts.rejected;
      this.#d.history.record(facts.nodeId, { kind: 'nacked', bootId: facts.bootId, seq, digest, phase: facts.phase, at });
      this.#event('node.nacked', node.scope, at, {
        nodeId: facts.nodeId,
        seq,
        digest,
        phase: facts.phase,
        retryable: facts.retryable,
        issues: facts.issues.length,
      });
      if (!facts.retryable) this.#markFailed(node.scope, facts);
      this.#evaluate(node.scope);
    });
  }

  reported(
    nodeId: string,
    bootId: string,
    serving: GenerationRef | null,
    source: NodeServingSource,
    at: Date,
    candidate?: NodeCandidate | null,
  ): void {
    this.#d.repo.transaction(() => {
      const node = this.#current(nodeId, bootId);
      this.#d.registry.reported(nodeId, bootId, serving, source, at, candidate);
      if (node) this.#evaluate(node.scope);
    });
  }

  disconnected(nodeId: string, bootId: string, at: Date): void {
    this.#d.repo.transaction(() => {
      const node = this.#current(nodeId, bootId);
      this.#d.registry.disconnected(nodeId, bootId, at);
      if (!node) return;
      const when = at.toISOString();
      this.#d.history.record(nodeId, { kind: 'disconnected', bootId, seq: null, digest: null, phase: null, at: when });
      this.#event('node.disconnected', node.scope, when, { nodeId, bootId });
      this.#evaluate(node.scope);
    });
  }

  /** Re-checks the LKG rule of `scope` (call after the active pointer moved). */
  reevaluate(scope: string): void {
    this.#d.repo.transaction(() => this.#evaluate(scope));
  }

  #current(nodeId: string, bootId: string): NodeView | null {
    const node = this.#d.registry.getNode(nodeId);
    return node && node.bootId === bootId ? node : null;
  }

  #markFailed(scope: string, facts: NodeNackFacts): void {
    const { seq, digest } = facts.rejected;
    const generation = this.#d.repo.getGeneration(scope, seq);
    if (!generation || generation.digest !== digest) return; // not one of ours (or another scope's)
    const first = facts.issues[0];
    const detail = first ? `: ${first.code} at ${first.pointer || '/'}: ${first.message}` : '';
    const reason = `node ${facts.nodeId} rejected it in phase ${facts.phase}${detail}`.slice(0, MAX_REASON_CHARS);
    const at = this.#d.clock.now().toISOString();
    if (!this.#d.lifecycle.markFailed({ scope, seq, reason, nodeId: facts.nodeId, at })) return;
    this.#d.audit.append({
      at,
      actor: `node:${facts.nodeId}`,
      action: 'generation.failed',
      scope,
      detail: { seq, digest, nodeId: facts.nodeId, phase: facts.phase, reason },
    });
    this.#event('generation.failed', scope, at, { seq, digest, nodeId: facts.nodeId, phase: facts.phase, reason });
  }

  #evaluate(scope: string): void {
    const active = this.#d.repo.getActive(scope);
    if (!active) return;
    const current = this.#d.lifecycle.getLkg(scope);
    if (current?.seq === active.seq) return;
    const failed = this.#d.lifecycle.getFailure(scope, active.seq) !== null;
    if (failed) return;
    const blocker = this.#blockers.get(scope);
    if (blocker?.digest === active.digest) {
      const node = this.#d.registry.getNode(blocker.nodeId);
      if (node && blocksLkg(node, active)) return;
    }
    const nodes = this.#d.registry.listNodes(scope);
    const next = nextLkg(active, failed, current, nodes);
    if (!next) {
      // The last blocking node in list order: pushes go out in session order and the answers
      // come back roughly so, which makes it the one likely to block longest. Any order stays
      // correct and costs at most one listing per fact, as before.
      const found = nodes.findLast((n) => blocksLkg(n, active));
      if (found) this.#blockers.set(scope, { digest: active.digest, nodeId: found.nodeId });
      else this.#blockers.delete(scope);
      return;
    }
    this.#blockers.delete(scope);
    const at = this.#d.clock.now().toISOString();
    this.#d.lifecycle.setLkg({ scope, seq: next.seq, digest: next.digest, at });
    this.#d.audit.append({
      at,
      actor: 'system',
      action: 'generation.lkg',
      scope,
      detail: { seq: next.seq, digest: next.digest, previousSeq: current?.seq ?? null },
    });
    this.#event('generation.lkg', scope, at, { seq: next.seq, digest: next.digest, previousSeq: current?.seq ?? null });
  }

  #event(type: Parameters<EventSink['append']>[0]['type'], scope: string, at: string, data: Record<string, unknown>): void {
    this.#d.events.append({ type, scope, at, data });
  }
}
