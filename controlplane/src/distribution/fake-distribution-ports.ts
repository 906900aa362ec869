/**
 * In-memory fakes of the distribution ports, for tests only: a DistributionSource whose active
 * generation the test sets, and a NodeRecorder that keeps every call and lets a test wait for one.
 */
import { EventEmitter } from 'node:events';
import { canonicalJson, digest } from '@spooky/config';
import type {
  DesiredGeneration,
  DistributionSource,
  GenerationHealthFacts,
  HealthSink,
  NodeAssignment,
  NodeAssignments,
  NodeRecorder,
} from './ports.ts';

export function generation(scope: string, seq: number, body: unknown = { seq }): DesiredGeneration {
  const payload = Buffer.from(canonicalJson(body));
  return { scope, seq, digest: digest(payload), payload };
}

export class FakeSource implements DistributionSource {
  readonly #active = new Map<string, DesiredGeneration>();
  readonly #listeners = new Set<(scope: string) => void>();

  activate(gen: DesiredGeneration): void {
    this.#active.set(gen.scope, gen);
    this.#all.set(`${gen.scope}\n${gen.seq}`, gen);
    for (const l of this.#listeners) l(gen.scope);
  }

  /** How many times desired() was called (each is what a store read would be). */
  reads = 0;
  /** When set, desired() throws it (a failing store). */
  failWith: Error | null = null;

  desired(scope: string): DesiredGeneration | null {
    this.reads++;
    if (this.failWith) throw this.failWith;
    return this.#active.get(scope) ?? null;
  }

  /** Every generation activated so far, by scope and seq (a rollout's candidate is one of them). */
  readonly #all = new Map<string, DesiredGeneration>();

  /** Makes `gen` known without activating it (a rollout's target). */
  store(gen: DesiredGeneration): void {
    this.#all.set(`${gen.scope}\n${gen.seq}`, gen);
  }

  generation(scope: string, seq: number): DesiredGeneration | null {
    if (this.failWith) throw this.failWith;
    return this.#all.get(`${scope}\n${seq}`) ?? null;
  }

  onActiveChanged(listener: (scope: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export type RecordedEvent =
  | { kind: 'connected'; nodeId: string; bootId: string; candidate?: string | null }
  | { kind: 'acked'; nodeId: string; seq: number; digest: string; candidate?: boolean }
  | { kind: 'nacked'; nodeId: string; seq: number; phase: string; retryable: boolean }
  | { kind: 'reported'; nodeId: string; digest: string | null }
  | { kind: 'disconnected'; nodeId: string };

export class FakeRecorder implements NodeRecorder {
  readonly events: RecordedEvent[] = [];
  readonly #emitter = new EventEmitter();

  connected(f: Parameters<NodeRecorder['connected']>[0]): void {
    this.#add({ kind: 'connected', nodeId: f.nodeId, bootId: f.bootId, ...(f.candidate ? { candidate: f.candidate.digest } : {}) });
  }
  acked(nodeId: string, _boot: string, applied: { seq: number; digest: string }, _at?: Date, candidate?: boolean): void {
    this.#add({ kind: 'acked', nodeId, seq: applied.seq, digest: applied.digest, ...(candidate ? { candidate: true } : {}) });
  }
  nacked(f: Parameters<NodeRecorder['nacked']>[0]): void {
    this.#add({ kind: 'nacked', nodeId: f.nodeId, seq: f.rejected.seq, phase: f.phase, retryable: f.retryable });
  }
  reported(nodeId: string, _boot: string, serving: { digest: string } | null): void {
    this.#add({ kind: 'reported', nodeId, digest: serving?.digest ?? null });
  }
  disconnected(nodeId: string): void {
    this.#add({ kind: 'disconnected', nodeId });
  }

  count(kind: RecordedEvent['kind']): number {
    return this.events.filter((e) => e.kind === kind).length;
  }

  /** Resolves once `predicate` holds over the recorded events; rejects after `timeoutMs`. */
  until(predicate: (events: readonly RecordedEvent[]) => boolean, timeoutMs = 3_000): Promise<void> {
    if (predicate(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.events)) return;
        clearTimeout(timer);
        this.#emitter.off('event', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#emitter.off('event', check);
        reject(new Error(`timed out; events: ${JSON.stringify(this.events.map((e) => e.kind))}`));
      }, timeoutMs);
      this.#emitter.on('event', check);
    });
  }

  #add(event: RecordedEvent): void {
    this.events.push(event);
    this.#emitter.emit('event');
  }
}

/** Assignments a test sets per node; each change tells the listeners about that one node. */
export class FakeAssignments implements NodeAssignments {
  readonly #byNode = new Map<string, NodeAssignment>();
  readonly #listeners = new Set<(scope: string, nodes: readonly string[]) => void>();
  /** How many times assignment() was asked. */
  reads = 0;

  /** Sets (or, with null, clears) the assignment of `nodeId` in `scope` and notifies. */
  set(scope: string, nodeId: string, assignment: NodeAssignment | null): void {
    const key = `${scope}\n${nodeId}`;
    if (assignment === null) this.#byNode.delete(key);
    else this.#byNode.set(key, assignment);
    for (const l of [...this.#listeners]) l(scope, [nodeId]);
  }

  assignment(scope: string, nodeId: string): NodeAssignment | null {
    this.reads++;
    return this.#byNode.get(`${scope}\n${nodeId}`) ?? null;
  }

  onAssignmentsChanged(listener: (scope: string, nodes: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A HealthSink that keeps every call and lets a test wait for windows of a node. */
export class FakeHealthSink implements HealthSink {
  readonly calls: { nodeId: string; scope: string; windows: readonly GenerationHealthFacts[] }[] = [];
  readonly #emitter = new EventEmitter();

  windows(nodeId: string, scope: string, windows: readonly GenerationHealthFacts[]): void {
    this.calls.push({ nodeId, scope, windows });
    this.#emitter.emit('call');
  }

  /** Resolves with the first call for `nodeId`; rejects after `timeoutMs`. */
  firstFor(nodeId: string, timeoutMs = 3_000): Promise<(typeof this.calls)[number]> {
    const found = (): (typeof this.calls)[number] | undefined => this.calls.find((c) => c.nodeId === nodeId);
    const now = found();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const call = found();
        if (!call) return;
        clearTimeout(timer);
        this.#emitter.off('call', check);
        resolve(call);
      };
      const timer = setTimeout(() => {
        this.#emitter.off('call', check);
        reject(new Error(`no health windows from ${nodeId}`));
      }, timeoutMs);
      this.#emitter.on('call', check);
    });
  }
}
