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

/** True when `index` may be picked: `exclude` is the request's tried set. */
export function notExcluded(exclude: ReadonlySet<number> | null, index: number): boolean {
  return exclude === null || !exclude.has(index);
}
