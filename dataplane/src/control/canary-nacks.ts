/**
 * The control client's canary NACKs (phase "canary": the in-node canary fell back, or the
 * process restarted within the crash window after holding the candidate). Pure bookkeeping, no
 * I/O; `S` is the client's stream type.
 *
 * Delivery is at least once: a NACK is handed out for every new greeted stream it was not
 * written on yet (`due`), and forgotten once the stream it was written on lived two report
 * ticks after the write (`tick`): one written on a stream that died early is sent again after
 * the next Hello. A digest that fell back stays refused for the life of the process
 * (`refusal`): a re-push of it as a candidate gets the same issues.
 */
import type { ConfigIssue } from '@spooky/config';
import type { FromDataPlane } from '@spooky/proto';
import type { RegressionFinding } from '../rollout/in-node-canary.ts';
import type { GenerationRef } from './generation-applier.ts';

/** Report ticks a stream must live after a write before that NACK counts as delivered. */
const DELIVERED_AFTER_TICKS = 2;

interface Outgoing<S> {
  readonly build: () => FromDataPlane;
  sentOn: S | null;
  ticks: number;
}

export class CanaryNacks<S> {
  readonly #outbox: Outgoing<S>[] = [];
  readonly #fellBack = new Map<string, readonly ConfigIssue[]>();
  /** Nonce of the push that delivered each held candidate, for its NACK. */
  readonly #nonces = new Map<string, string>();

  /** The candidate `digest` was held from the push `nonce`. */
  held(digest: string, nonce: string): void {
    this.#nonces.set(digest, nonce);
  }

  /** The candidate `digest` was promoted or dropped on the control plane's word. */
  forget(digest: string): void {
    this.#nonces.delete(digest);
  }

  /** The issues of an earlier fall-back from `digest`, or undefined. */
  refusal(digest: string): readonly ConfigIssue[] | undefined {
    return this.#fellBack.get(digest);
  }

  /** Queues the NACK of `rejected`; `build(nonce)` makes it when it is written (still_serving then current). */
  queue(rejected: GenerationRef, issues: readonly ConfigIssue[], build: (nonce: string) => FromDataPlane): void {
    this.#fellBack.set(rejected.digest, issues);
    const nonce = this.#nonces.get(rejected.digest) ?? '';
    this.#nonces.delete(rejected.digest);
    this.#outbox.push({ build: () => build(nonce), sentOn: null, ticks: 0 });
  }

  /** The NACKs to write on `stream` (greeted) now: those not written on it yet. */
  due(stream: S): FromDataPlane[] {
    const out: FromDataPlane[] = [];
    for (const o of this.#outbox) {
      if (o.sentOn === stream) continue;
      o.sentOn = stream;
      o.ticks = 0;
      out.push(o.build());
    }
    return out;
  }

  /** A report tick on `stream`: NACKs written on it long enough ago count as delivered. */
  tick(stream: S): void {
    for (let i = this.#outbox.length - 1; i >= 0; i--) {
      const o = this.#outbox[i];
      if (o === undefined || o.sentOn !== stream) continue;
      o.ticks += 1;
      if (o.ticks >= DELIVERED_AFTER_TICKS) this.#outbox.splice(i, 1);
    }
  }
}

/** One canary finding as a NACK issue (`canary.<rule>`), with the numbers. */
export function findingIssue(f: RegressionFinding, nodeId: string): ConfigIssue {
  const what =
    f.rule === 'p99_factor'
      ? `candidate p99 ${round(f.observed)} ms above the limit ${round(f.limit)} ms`
      : f.rule === 'error_ratio'
        ? `candidate 5xx ratio ${round(f.observed)} above the limit ${round(f.limit)}`
        : `candidate 5xx ratio exceeds the serving generation's by ${round(f.observed)}, limit ${round(f.limit)}`;
  return { pointer: '', code: `canary.${f.rule}`, message: `${what} on node ${nodeId}; fell back to the serving generation` };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
