/**
 * Parking of NACKed digests per (node id, boot id). A digest a node rejected is not pushed to
 * that boot again (no push/NACK loop); a retryable NACK only delays the next try with
 * exponential backoff. A node that restarts (new boot id) starts with nothing parked.
 *
 * Entries live in memory for the life of the control-plane process; nodes that never come back
 * keep their (small) entry until the process restarts.
 */

export interface ParkedDigest {
  readonly digest: string;
  /** False: never re-sent during this boot. */
  readonly retryable: boolean;
  /** NACKs received for this digest during this boot. */
  readonly failures: number;
  /** Earliest time of the next push (retryable only); +Infinity when not retryable. */
  readonly retryAtMs: number;
}

export interface RetryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Default: 1 s, doubling, capped at 60 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1_000, capMs: 60_000 };

/** Pure: the parking entry after one more NACK of `digest`. Not retryable wins for good. */
export function parkAfterNack(
  previous: ParkedDigest | undefined,
  digest: string,
  retryable: boolean,
  nowMs: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): ParkedDigest {
  const failures = (previous?.failures ?? 0) + 1;
  const stillRetryable = retryable && (previous?.retryable ?? true);
  if (!stillRetryable) return { digest, retryable: false, failures, retryAtMs: Number.POSITIVE_INFINITY };
  return { digest, retryable: true, failures, retryAtMs: nowMs + retryDelayMs(failures, policy) };
}

/** Delay before retry number `failures` (1-based): base·2^(failures−1), capped. */
export function retryDelayMs(failures: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

interface BootParking {
  readonly bootId: string;
  readonly digests: Map<string, ParkedDigest>;
}

/** The parking table of every node this process has seen. */
export class NodeParking {
  readonly #nodes = new Map<string, BootParking>();
  readonly #policy: RetryPolicy;

  constructor(policy: RetryPolicy = DEFAULT_RETRY_POLICY) {
    this.#policy = policy;
  }

  /** Called on Hello: a boot id other than the remembered one clears that node's parking. */
  enterBoot(nodeId: string, bootId: string): void {
    if (this.#nodes.get(nodeId)?.bootId !== bootId) this.#nodes.set(nodeId, { bootId, digests: new Map() });
  }

  get(nodeId: string, bootId: string, digest: string): ParkedDigest | undefined {
    const boot = this.#nodes.get(nodeId);
    return boot?.bootId === bootId ? boot.digests.get(digest) : undefined;
  }

  park(nodeId: string, bootId: string, digest: string, retryable: boolean, nowMs: number): ParkedDigest {
    this.enterBoot(nodeId, bootId);
    const boot = this.#nodes.get(nodeId)!;
    const entry = parkAfterNack(boot.digests.get(digest), digest, retryable, nowMs, this.#policy);
    boot.digests.set(digest, entry);
    return entry;
  }

  /** The node applied `digest` after all (e.g. a retry succeeded): forget its failures. */
  release(nodeId: string, bootId: string, digest: string): void {
    const boot = this.#nodes.get(nodeId);
    if (boot?.bootId === bootId) boot.digests.delete(digest);
  }
}
