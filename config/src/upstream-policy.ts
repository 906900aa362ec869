/**
 * upstreamPolicy: what applies to one upstream once every override is resolved — its own
 * `upstream.<name>.resilience` / `.timeouts` blocks, else the global `resilience` blocks
 * (hedging: enabled only when allow-listed; retry budget: `per_route_ratio_percent`), else
 * `performance`'s timeouts. Pure; the data plane calls it once per upstream at compile time.
 */
import { globalHedgingFor, globalRetryBudgetFor, pickTimeouts } from './normalize-resilience.ts';
import type { Config, UpstreamPolicy } from './types.ts';

export function upstreamPolicy(config: Config, name: string): UpstreamPolicy {
  const up = config.upstream[name];
  const own = up?.resilience ?? null;
  const global = config.resilience;
  return {
    timeouts: up?.timeouts ?? pickTimeouts(config.performance),
    circuit_breaker: own?.circuit_breaker ?? global.circuit_breaker,
    retries: own?.retries ?? global.retries,
    retry_budget: own?.retry_budget ?? globalRetryBudgetFor(global.retry_budget, name),
    hedging: own?.hedging ?? globalHedgingFor(global.hedging, name),
  };
}
