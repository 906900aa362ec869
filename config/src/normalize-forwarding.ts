/**
 * Defaults of the forwarding header policies. A per-upstream `forwarded_headers` block
 * overrides the global one field by field (a missing field takes the global value), resolved
 * here so the data plane reads one complete block per upstream.
 */

import type { ForwardedHeaders, Tracing } from './forwarding-types.ts';
import type { ConfigInput } from './schema.ts';

export const FORWARDING_DEFAULTS = {
  mode: 'overwrite',
  via: 'spooky',
  samplePercent: 100,
} as const;

type ForwardedInput = NonNullable<ConfigInput['forwarded_headers']>;

export function normalizeForwardedHeaders(input: ForwardedInput | undefined, base: ForwardedHeaders | null): ForwardedHeaders {
  const via = input?.via;
  return {
    mode: input?.mode ?? base?.mode ?? FORWARDING_DEFAULTS.mode,
    trusted_proxies: input?.trusted_proxies?.map((c) => c.trim()) ?? base?.trusted_proxies ?? [],
    via: via ?? (base === null ? FORWARDING_DEFAULTS.via : base.via),
  };
}

export function normalizeTracing(input: ConfigInput['tracing']): Tracing {
  return {
    enabled: input?.enabled ?? true,
    sample_percent: input?.sample_percent ?? FORWARDING_DEFAULTS.samplePercent,
  };
}
