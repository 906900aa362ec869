/**
 * Building `candidates` for Balancer.pick (see balancer.ts). The health/breaker filter is the
 * caller's; these helpers only keep the steady state allocation-free: while every backend is
 * available, the same shared list is returned, which policies recognise as "everyone".
 */

const ALL: Array<readonly number[]> = [];

/**
 * Indexes 0..n-1, shared per n: never mutate. (Not frozen: V8 iterates frozen arrays about
 * three times slower, and every pick walks this list.)
 */
export function allBackends(n: number): readonly number[] {
  let list = ALL[n];
  if (list === undefined) {
    const fresh: number[] = [];
    for (let i = 0; i < n; i++) fresh.push(i);
    list = fresh;
    ALL[n] = list;
  }
  return list;
}

/**
 * The indexes of `n` backends for which `available` holds, ascending. Returns the shared
 * `allBackends(n)` list when `available` is null or holds for every backend.
 */
export function eligibleBackends(n: number, available: ((index: number) => boolean) | null): readonly number[] {
  if (available === null) return allBackends(n);
  let first = 0;
  while (first < n && available(first)) first++;
  if (first === n) return allBackends(n);
  const out: number[] = [];
  for (let i = 0; i < first; i++) out.push(i);
  for (let i = first + 1; i < n; i++) if (available(i)) out.push(i);
  return out;
}

/**
 * One backend's availability flag as candidate filtering reads it (health/health-handle.ts
 * satisfies it): `available` is the fast answer; when false, `recheck()` is the authoritative
 * one (it may end an elapsed cooldown).
 */
export interface AvailabilityFlag {
  readonly available: boolean;
  recheck(): boolean;
}

/** How many backends anywhere are unavailable (HealthMonitor.unavailableCount). */
export interface AvailabilitySummary {
  readonly unavailableCount: number;
}

/**
 * The candidates of one compiled upstream, from its backends' flags (resolved once per
 * generation, in backend order). `current()`: when the summary says no backend anywhere is
 * unavailable, the shared `allBackends(n)` list at once (O(1)); else a loop over the booleans:
 * while every flag is set, `allBackends(n)` again (no allocation, no clock); otherwise the
 * unavailable backends are rechecked and, when the result equals the previous degraded list,
 * that same array is returned — so a degraded upstream allocates only when membership changes
 * and policies can recognise a membership by identity. Never mutate the returned list.
 */
export class CandidateFilter {
  readonly #flags: readonly AvailabilityFlag[];
  readonly #summary: AvailabilitySummary | null;
  /** The last degraded list returned (ascending indexes), reused while membership holds. */
  #last: readonly number[] | null = null;

  /** `summary` null: always loop over the flags. */
  constructor(flags: readonly AvailabilityFlag[], summary: AvailabilitySummary | null = null) {
    this.#flags = flags;
    this.#summary = summary;
  }

  current(): readonly number[] {
    const flags = this.#flags;
    const n = flags.length;
    if (this.#summary !== null && this.#summary.unavailableCount === 0) return allBackends(n);
    let k = 0;
    while (k < n && (flags[k] as AvailabilityFlag).available) k++;
    if (k === n) return allBackends(n);
    return this.#degraded(k);
  }

  /** Flags 0..first-1 are set and flag `first` is not: recheck the unset ones, reuse #last when equal. */
  #degraded(first: number): readonly number[] {
    const flags = this.#flags;
    const n = flags.length;
    const last = this.#last;
    let out: number[] | null = null;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const flag = flags[i] as AvailabilityFlag;
      if (i >= first && !flag.available && !flag.recheck()) continue;
      // Member i: still equal to `last` so far?
      if (out === null && (last === null || last[size] !== i)) out = prefix(last, size);
      out?.push(i);
      size++;
    }
    if (out === null && last !== null && last.length === size) return last;
    out ??= prefix(last, size);
    if (out.length === n) return allBackends(n); // every recheck re-admitted
    this.#last = out;
    return out;
  }
}

/** A copy of the first `size` entries of `list` (empty when null). */
function prefix(list: readonly number[] | null, size: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < size && list !== null; j++) out.push(list[j] as number);
  return out;
}

/** True when `index` may be picked: `exclude` is the request's tried set. */
export function notExcluded(exclude: ReadonlySet<number> | null, index: number): boolean {
  return exclude === null || !exclude.has(index);
}
