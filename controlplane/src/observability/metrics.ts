/**
 * The control plane's Prometheus registry (prefix spooky_cp_): process defaults plus the
 * counters the API updates. One instance per process (or per test), never the global registry.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface CpMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly generationsCreated: Counter<'scope' | 'deduplicated'>;
  readonly activeMoves: Counter<'scope' | 'kind'>;
  readonly authFailures: Counter<'reason'>;
  readonly authThrottled: Counter<'by'>;
}

export function createMetrics(options: { defaults?: boolean } = {}): CpMetrics {
  const registry = new Registry();
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: 'spooky_cp_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'spooky_cp_http_requests_total',
      help: 'REST requests answered, by route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'spooky_cp_http_request_duration_seconds',
      help: 'REST request duration',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    generationsCreated: new Counter({
      name: 'spooky_cp_generations_created_total',
      help: 'POST generations that stored (deduplicated=false) or matched (true) a generation',
      labelNames: ['scope', 'deduplicated'] as const,
      registers: [registry],
    }),
    activeMoves: new Counter({
      name: 'spooky_cp_active_moves_total',
      help: 'Active pointer moves by kind (activate, rollback)',
      labelNames: ['scope', 'kind'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'spooky_cp_auth_failures_total',
      help: 'Failed REST authentications by reason (missing, malformed, unknown, expired), throttled ones included',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authThrottled: new Counter({
      name: 'spooky_cp_auth_throttled_total',
      help: 'Failed authentications answered 429, by the exhausted bucket (address, token, global)',
      labelNames: ['by'] as const,
      registers: [registry],
    }),
  };
}
