/**
 * `random`: weighted random. A cumulative weight table is built once per generation; a pick
 * draws r ∈ [0, total) and binary-searches the first cumulative bound above r. With
 * exclusions the table is rebuilt over the eligible backends for that pick only.
 */
import type { Balancer, PickInput, RandomSource, WeightedBackend } from './balancer.ts';

/** First index whose cumulative bound is > r. `cumulative` is strictly increasing. */
export function searchCumulative(cumulative: readonly number[], r: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function createRandom(backends: readonly WeightedBackend[], random: RandomSource = Math.random): Balancer {
  const cumulative: number[] = [];
  let total = 0;
  for (const b of backends) {
    total += b.weight;
    cumulative.push(total);
  }
  const indexes = backends.map((_, i) => i);

  function pickFrom(table: readonly number[], sum: number, map: readonly number[]): number | null {
    if (table.length === 0 || sum <= 0) return null;
    return map[searchCumulative(table, random() * sum)] ?? null;
  }

  return {
    type: 'random',
    pick(input: PickInput): number | null {
      const excluded = input.excluded;
      if (excluded === null || excluded.size === 0) return pickFrom(cumulative, total, indexes);
      const table: number[] = [];
      const map: number[] = [];
      let sum = 0;
      for (let i = 0; i < backends.length; i++) {
        if (excluded.has(i)) continue;
        sum += (backends[i] as WeightedBackend).weight;
        table.push(sum);
        map.push(i);
      }
      return pickFrom(table, sum, map);
    },
  };
}
