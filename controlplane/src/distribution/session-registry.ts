/**
 * Live ConfigSync sessions, indexed by scope (to re-evaluate on activation) and by node id (a
 * node has at most one live session: a reconnect supersedes a stream that has not noticed it
 * is dead yet).
 */

export interface RegisteredSession {
  readonly nodeId: string;
  readonly scope: string;
}

export class SessionRegistry<S extends RegisteredSession> {
  readonly #byScope = new Map<string, Set<S>>();
  readonly #byNode = new Map<string, S>();

  /** Adds `session`; returns the session it replaces for the same node id, if any. */
  add(session: S): S | undefined {
    const previous = this.#byNode.get(session.nodeId);
    if (previous !== undefined) this.remove(previous);
    this.#byNode.set(session.nodeId, session);
    let set = this.#byScope.get(session.scope);
    if (set === undefined) {
      set = new Set();
      this.#byScope.set(session.scope, set);
    }
    set.add(session);
    return previous;
  }

  remove(session: S): void {
    if (this.#byNode.get(session.nodeId) === session) this.#byNode.delete(session.nodeId);
    const set = this.#byScope.get(session.scope);
    if (set === undefined) return;
    set.delete(session);
    if (set.size === 0) this.#byScope.delete(session.scope);
  }

  /** The live session of `nodeId`, if any. */
  ofNode(nodeId: string): S | undefined {
    return this.#byNode.get(nodeId);
  }

  inScope(scope: string): S[] {
    return [...(this.#byScope.get(scope) ?? [])];
  }
}
