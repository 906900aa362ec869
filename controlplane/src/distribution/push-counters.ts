/**
 * Push counters of one distribution server: per node in memory (read back by tests and by
 * pushesSent()/pushesAbandoned() on the server object), and, when a prom-client registry is
 * given, per scope in Prometheus (node ids churn, so they are not metric labels):
 *   spooky_cp_pushes_sent_total{scope}       pushes written to a stream
 *   spooky_cp_pushes_abandoned_total{scope}  pushes given up for lack of an answer
 * Counting starts at 0 with each server (a restarted control plane counts afresh).
 */
import { Counter, type Registry } from 'prom-client';

const SENT = 'spooky_cp_pushes_sent_total';
const ABANDONED = 'spooky_cp_pushes_abandoned_total';

export class PushCounters {
  readonly #sent = new Map<string, number>();
  readonly #abandoned = new Map<string, number>();
  readonly #promSent: Counter<'scope'> | null;
  readonly #promAbandoned: Counter<'scope'> | null;

  constructor(registry?: Registry) {
    this.#promSent = registry ? counter(registry, SENT, 'ConfigSync pushes written to data-plane streams') : null;
    this.#promAbandoned = registry ? counter(registry, ABANDONED, 'ConfigSync pushes abandoned without an answer') : null;
  }

  sent(scope: string, nodeId: string): void {
    this.#sent.set(nodeId, (this.#sent.get(nodeId) ?? 0) + 1);
    this.#promSent?.inc({ scope });
  }

  abandoned(scope: string, nodeId: string): void {
    this.#abandoned.set(nodeId, (this.#abandoned.get(nodeId) ?? 0) + 1);
    this.#promAbandoned?.inc({ scope });
  }

  sentTo(nodeId: string): number {
    return this.#sent.get(nodeId) ?? 0;
  }

  abandonedFor(nodeId: string): number {
    return this.#abandoned.get(nodeId) ?? 0;
  }
}

/** One counter per registry and name: a second server on the same registry shares it. */
function counter(registry: Registry, name: string, help: string): Counter<'scope'> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<'scope'>;
  return new Counter({ name, help, labelNames: ['scope'] as const, registers: [registry] });
}
