/**
 * Semantic checks of `observability.tracing`. Pointers are into the input document.
 *  - enabled needs an endpoint → `observability.tracing.endpoint_required` at /enabled;
 *  - the endpoint is an absolute http: or https: URL → `observability.tracing.endpoint_invalid`;
 *    it carries no user:password (the URL is logged; a secret would leak with it) →
 *    `observability.tracing.endpoint_credentials`;
 *  - export needs propagation: with the top-level `tracing.enabled: false` the upstream would
 *    never see the attempt's span → `observability.tracing.propagation_off` at /enabled.
 */
import type { ConfigInput } from './schema.ts';
import type { Config, ConfigIssue } from './types.ts';

const BASE = '/observability/tracing';

export function observabilityIssues(input: ConfigInput, config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const t = config.observability.tracing;
  const endpoint = t.otlp_endpoint;
  if (endpoint !== null) {
    const url = URL.canParse(endpoint) ? new URL(endpoint) : null;
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      issues.push({ pointer: `${BASE}/otlp_endpoint`, code: 'observability.tracing.endpoint_invalid', message: 'otlp_endpoint must be an http:// or https:// URL' });
    } else if (url.username !== '' || url.password !== '') {
      issues.push({
        pointer: `${BASE}/otlp_endpoint`,
        code: 'observability.tracing.endpoint_credentials',
        message: 'otlp_endpoint must not carry a user or password (it is logged)',
      });
    }
  }
  if (t.enabled && endpoint === null) {
    issues.push({ pointer: `${BASE}/enabled`, code: 'observability.tracing.endpoint_required', message: 'tracing export needs otlp_endpoint' });
  }
  if (t.enabled && !config.tracing.enabled) {
    issues.push({
      pointer: input.tracing?.enabled === false ? '/tracing/enabled' : `${BASE}/enabled`,
      code: 'observability.tracing.propagation_off',
      message: 'span export needs traceparent propagation (tracing.enabled must not be false)',
    });
  }
  return issues;
}
