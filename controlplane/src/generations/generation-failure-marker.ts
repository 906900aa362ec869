/**
 * Marks a generation `failed` on behalf of the system (a rollout whose gate failed), the same
 * way a node's non-retryable NACK does in lifecycle-recorder.ts: one write transaction with the
 * failure record (the first one wins), the audit entry `generation.failed` and the event
 * `generation.failed`. A failed generation needs `force` to be activated again.
 */
import type { EventSink, LifecycleRepo } from './lifecycle-ports.ts';
import type { AuditLog, Clock, GenerationRepo } from './ports.ts';

export interface GenerationFailureMarkerDeps {
  readonly repo: GenerationRepo;
  readonly lifecycle: LifecycleRepo;
  readonly audit: AuditLog;
  readonly events: EventSink;
  readonly clock: Clock;
}

const MAX_REASON_CHARS = 500;

export class GenerationFailureMarker {
  readonly #d: GenerationFailureMarkerDeps;

  constructor(deps: GenerationFailureMarkerDeps) {
    this.#d = deps;
  }

  /** True when this call marked it; false when it was failed already or does not exist. */
  markFailed(scope: string, seq: number, actor: string, reason: string): boolean {
    return this.#d.repo.transaction(() => {
      const generation = this.#d.repo.getGeneration(scope, seq);
      if (!generation) return false;
      const at = this.#d.clock.now().toISOString();
      const text = reason.slice(0, MAX_REASON_CHARS);
      if (!this.#d.lifecycle.markFailed({ scope, seq, reason: text, nodeId: actor, at })) return false;
      const detail = { seq, digest: generation.digest, actor, reason: text };
      this.#d.audit.append({ at, actor, action: 'generation.failed', scope, detail });
      this.#d.events.append({ type: 'generation.failed', scope, at, data: detail });
      return true;
    });
  }
}
