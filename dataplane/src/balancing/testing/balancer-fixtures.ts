/**
 * Test fixtures for balancing: backends, requests, a seeded PRNG and a "driver" that picks
 * and dispatches (BackendStats.begin, never finished) so stateful policies see load build up.
 */
import type { HeaderList } from '../../http/exchange.ts';
import { BackendStats } from '../../runtime/backend-stats.ts';
import type { Balancer, PickContext, PickRequest, RandomSource, WeightedBackend } from '../balancer.ts';

/** Deterministic PRNG (mulberry32) so distribution assertions are reproducible. */
export function seeded(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const backendsOf = (...weights: number[]): WeightedBackend[] =>
  weights.map((weight, i) => ({ address: `http://10.0.0.${i + 1}:8080`, weight }));

export const statsFor = (n: number): BackendStats[] => Array.from({ length: n }, () => new BackendStats());

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly authority?: string | null;
  readonly headers?: HeaderList;
  readonly remoteAddress?: string | null;
  readonly remotePort?: number | null;
  readonly connectionId?: string | null;
}

export function requestOf(o: RequestOptions = {}): PickRequest {
  return {
    head: { method: o.method ?? 'GET', scheme: 'https', authority: o.authority === undefined ? 'example.com' : o.authority, path: o.path ?? '/', headers: o.headers ?? [] },
    remoteAddress: o.remoteAddress === undefined ? '192.0.2.1' : o.remoteAddress,
    remotePort: o.remotePort === undefined ? 40000 : o.remotePort,
    ...(o.connectionId === undefined ? {} : { connectionId: o.connectionId }),
  };
}

/** A request distinct per `i` for every key source (header x-user, connection id, path, address). */
export function distinctRequest(i: number): PickRequest {
  return requestOf({
    path: `/item/${i}`,
    headers: [['x-user', `user-${i}`]],
    connectionId: `conn-${i}`,
    remoteAddress: `198.51.${(i >> 8) & 255}.${i & 255}`,
  });
}

export const ctxOf = (request: PickRequest | null = null, exclude: ReadonlySet<number> | null = null): PickContext => ({ exclude, request });

/** Picks `n` times with distinct requests, dispatching each pick; returns counts per index. */
export function drive(balancer: Balancer, stats: readonly BackendStats[], candidates: readonly number[], n: number, exclude: ReadonlySet<number> | null = null): number[] {
  const counts = new Array<number>(stats.length).fill(0);
  for (let i = 0; i < n; i++) {
    const picked = balancer.pick(candidates, ctxOf(distinctRequest(i), exclude));
    if (picked === null) throw new Error('unexpected null pick');
    counts[picked] = (counts[picked] ?? 0) + 1;
    stats[picked]?.begin();
  }
  return counts;
}
