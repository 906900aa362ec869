/**
 * Defaults of `observability.tracing`: export off, sample_ratio 1, service_name
 * spooky-dataplane. An endpoint URL whose path is empty or `/` gets `/v1/traces` (the OTLP/HTTP
 * traces path), so `http://collector:4318` and `http://collector:4318/v1/traces` mean the same
 * and have one canonical form. An endpoint that is not a URL is kept as written (the semantic
 * check refuses it).
 */
import type { Observability } from './observability-types.ts';
import type { ConfigInput } from './schema.ts';

export const OBSERVABILITY_DEFAULTS = {
  sampleRatio: 1,
  serviceName: 'spooky-dataplane',
  tracesPath: '/v1/traces',
} as const;

export function normalizeObservability(input: ConfigInput['observability']): Observability {
  const t = input?.tracing;
  return {
    tracing: {
      enabled: t?.enabled ?? false,
      otlp_endpoint: t?.otlp_endpoint === undefined ? null : tracesEndpoint(t.otlp_endpoint.trim()),
      sample_ratio: t?.sample_ratio ?? OBSERVABILITY_DEFAULTS.sampleRatio,
      service_name: t?.service_name ?? OBSERVABILITY_DEFAULTS.serviceName,
    },
  };
}

function tracesEndpoint(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.pathname === '/' && url.search === '' && url.hash === '') return `${url.origin}${OBSERVABILITY_DEFAULTS.tracesPath}`;
  return url.href;
}
