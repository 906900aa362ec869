/**
 * Which backends a try (first, retry or hedge) may go to: the health list, without backends
 * whose breaker is open (or whose half-open probes are all out) or whose in-flight gauge is
 * full, and without those already tried (retries and hedges always go elsewhere).
 */
import type { CompiledUpstream } from '../runtime/generation.ts';

/** Why no candidate was left (for the 503's reason). */
export type Empty = 'health' | 'circuit_open' | 'inflight_backend';

/**
 * Candidates for the balancer. The health list itself when nothing is filtered out (no
 * allocation). When the list is empty because of breakers or backend caps, `why` is told which.
 */
export function pickable(upstream: CompiledUpstream, now: number, tried: ReadonlySet<number> | null, why: (e: Empty) => void): readonly number[] {
  const healthy = upstream.candidates.current();
  const backends = upstream.backends;
  let out: number[] | null = null;
  let blocked: Empty | null = null;
  for (let k = 0; k < healthy.length; k++) {
    const i = healthy[k] as number;
    const b = backends[i];
    let ok = b !== undefined && (tried === null || !tried.has(i));
    if (ok && b !== undefined && !b.breaker.available(now)) {
      ok = false;
      blocked ??= 'circuit_open';
    }
    if (ok && b !== undefined && b.inflight.active >= b.inflight.limit) {
      ok = false;
      blocked ??= 'inflight_backend';
    }
    if (ok) {
      out?.push(i);
    } else if (out === null) {
      out = healthy.slice(0, k) as number[];
    }
  }
  const list = out ?? healthy;
  if (list.length === 0 && blocked !== null) why(blocked);
  return list;
}

/** Untried backends (`tried`: backend indexes) that could take another try now. */
export function alternates(upstream: CompiledUpstream, tried: ReadonlySet<number>, now: number): number {
  let n = 0;
  for (const i of upstream.candidates.current()) {
    const b = upstream.backends[i];
    if (b !== undefined && !tried.has(i) && b.breaker.available(now) && b.inflight.active < b.inflight.limit) n++;
  }
  return n;
}
