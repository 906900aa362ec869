/**
 * The data plane's memory budget for one generation: before a generation is parsed and again
 * before it is compiled, its heap cost is estimated from its size and counts, and a
 * generation over `--max-generation-memory-mb` is refused (NACK non-retryable, phase
 * `compile`, code `generation.over_memory_budget`) while the served one keeps serving. A data
 * plane protects itself whatever a control plane sends: the control plane's own caps may
 * differ by version, and a config within them can still be too large for this node.
 *
 * Coefficients (bytes of heap, measured with heap-after-GC on generated configs of 10 000–
 * 100 000 backends, Node 24; see compile-generation.ts) rounded up for GC slack:
 *   - per payload byte: 24 (JSON.parse tree + validated config ~6, validation garbage ~12)
 *   - per upstream: 4 KiB (route, matchers index, balancer, candidate filter; measured 3.6)
 *   - per backend: 1.5 KiB (compiled backend, transport entry without pool, stats, health
 *     entry; measured 1.0 + 0.25)
 *   - per route matcher (header/query/cookie): 512 B (measured ~0.3)
 *   - per backend with an active health_check: 21 KiB (its probe pool; measured 20)
 * Not counted: a backend's traffic pool (~20 KiB, created by its first request) and a
 * consistent-hash ring (~200 KiB, built by the upstream's first pick): traffic pays them.
 * The old generation stays in memory until the swap, so a node needs about the served
 * generation's cost plus the new one's during an apply.
 */
import type { Config, ConfigIssue } from '@spooky/config';

export const BYTES_PER_PAYLOAD_BYTE = 24;
export const BYTES_PER_UPSTREAM = 4096;
export const BYTES_PER_BACKEND = 1536;
export const BYTES_PER_MATCHER = 512;
export const BYTES_PER_ACTIVE_CHECK = 21 * 1024;

/** Default of `--max-generation-memory-mb`. */
export const DEFAULT_MAX_GENERATION_MEMORY_MB = 1024;

export const OVER_BUDGET_CODE = 'generation.over_memory_budget';

export interface GenerationCounts {
  readonly payloadBytes: number;
  readonly upstreams: number;
  readonly backends: number;
  readonly matchers: number;
  readonly activeChecks: number;
}

export function countGeneration(config: Config, payloadBytes: number): GenerationCounts {
  let upstreams = 0;
  let backends = 0;
  let matchers = 0;
  let activeChecks = 0;
  for (const upstream of Object.values(config.upstream)) {
    upstreams++;
    backends += upstream.backends.length;
    for (const b of upstream.backends) if (b.health_check !== null) activeChecks++;
    const route = upstream.route;
    if (route !== null) matchers += route.headers.length + route.query.length + route.cookies.length;
  }
  return { payloadBytes, upstreams, backends, matchers, activeChecks };
}

/** Estimated heap bytes of parsing, compiling and retaining a generation with these counts. */
export function estimateGenerationBytes(c: GenerationCounts): number {
  return (
    c.payloadBytes * BYTES_PER_PAYLOAD_BYTE +
    c.upstreams * BYTES_PER_UPSTREAM +
    c.backends * BYTES_PER_BACKEND +
    c.matchers * BYTES_PER_MATCHER +
    c.activeChecks * BYTES_PER_ACTIVE_CHECK
  );
}

/**
 * The refusal issue when `counts` exceed `budgetBytes`, else null. With only the payload size
 * known (before JSON.parse), pass zero counts: the payload term alone is a lower bound.
 */
export function overBudget(counts: GenerationCounts, budgetBytes: number): ConfigIssue | null {
  const estimate = estimateGenerationBytes(counts);
  if (estimate <= budgetBytes) return null;
  const what =
    counts.upstreams === 0 && counts.backends === 0
      ? `${counts.payloadBytes} payload bytes`
      : `${counts.payloadBytes} payload bytes, ${counts.upstreams} upstreams, ${counts.backends} backends (${counts.activeChecks} actively checked), ${counts.matchers} matchers`;
  return {
    pointer: '',
    code: OVER_BUDGET_CODE,
    message: `generation needs an estimated ${mib(estimate)} MiB of memory (${what}); this data plane's budget is ${mib(budgetBytes)} MiB (--max-generation-memory-mb)`,
  };
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1).replace(/\.0$/, '');
}
