/**
 * Count caps that bound what one accepted config costs a data plane (pools, health probes,
 * route matchers), checked on the schema-valid input before normalization and the semantic
 * checks, whose cost grows with these counts. Limits: limits.ts (and the README).
 */
import { MAX_BACKENDS, MAX_MATCHERS, MAX_ROUTES } from './limits.ts';
import type { ConfigInput } from './schema.ts';
import type { ConfigIssue } from './types.ts';

export function budgetIssues(input: ConfigInput): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const upstreams = Object.values(input.upstream);
  let backends = 0;
  let matchers = 0;
  for (const up of upstreams) {
    backends += up.backends.length;
    const r = up.route;
    if (r) matchers += (r.headers?.length ?? 0) + (r.query?.length ?? 0) + (r.cookies?.length ?? 0);
  }
  if (upstreams.length > MAX_ROUTES) issues.push(over('budget.routes', upstreams.length, 'upstreams', MAX_ROUTES));
  if (backends > MAX_BACKENDS) issues.push(over('budget.backends', backends, 'backends across all upstreams', MAX_BACKENDS));
  if (matchers > MAX_MATCHERS) issues.push(over('budget.matchers', matchers, 'route matchers across all routes', MAX_MATCHERS));
  return issues;
}

function over(code: string, count: number, what: string, limit: number): ConfigIssue {
  return { pointer: '/upstream', code, message: `${count} ${what}; the limit is ${limit}` };
}
