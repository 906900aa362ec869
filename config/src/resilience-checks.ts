/**
 * Semantic checks of `resilience`, the Rust aliases in `performance`, and the per-upstream
 * `resilience` / `timeouts` blocks. Pointers are into the input document (list positions as
 * written, before normalization sorts them).
 */
import { escapePointer } from './pointer.ts';
import type { ConfigInput } from './schema.ts';
import { timeoutIssues } from './timeouts.ts';
import type { Config, ConfigIssue } from './types.ts';

type Add = (pointer: string, code: string, message: string) => void;

/** Key specs a rate limit may take its key from (the Rust Spooky's list). */
const KEY_SPEC = /^(path|authority|method|cid|sticky-cid|peer_ip|client_ip|bearer_token|(header|cookie|query):[^\s:]{1,256})$/;

export function resilienceIssues(input: ConfigInput, config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add: Add = (pointer, code, message) => issues.push({ pointer, code, message });
  const perf = input.performance;
  const r = input.resilience;
  issues.push(...timeoutIssues(perf, '/performance'));
  const protocolAliases = [
    ['max_request_headers', 'max_headers_count'],
    ['max_request_header_bytes', 'max_headers_bytes'],
  ] as const;
  for (const [ours, rust] of protocolAliases) {
    const theirs = r?.protocol?.[rust];
    if (perf?.[ours] !== undefined && theirs !== undefined && perf[ours] !== theirs) {
      add(`/resilience/protocol/${rust}`, 'config.alias_conflict', `${rust} is the Rust spelling of performance.${ours}; give one of them, or both with the same value`);
    }
  }

  const known = (name: string) => Object.hasOwn(config.upstream, name);
  const unknownIn = (list: readonly string[] | undefined, ptr: string) =>
    list?.forEach((name, i) => {
      if (!known(name)) add(`${ptr}/${i}`, 'upstream.unknown', `no upstream named '${name}'`);
    });
  const unknownKeys = (map: Readonly<Record<string, unknown>> | undefined, ptr: string) => {
    for (const name of Object.keys(map ?? {})) {
      if (!known(name)) add(`${ptr}/${escapePointer(name)}`, 'upstream.unknown', `no upstream named '${name}'`);
    }
  };
  unknownKeys(r?.retry_budget?.per_route_ratio_percent, '/resilience/retry_budget/per_route_ratio_percent');
  unknownIn(r?.hedging?.route_allowlist, '/resilience/hedging/route_allowlist');
  unknownKeys(r?.route_queue?.caps, '/resilience/route_queue/caps');
  unknownIn(r?.brownout?.core_routes, '/resilience/brownout/core_routes');

  const res = config.resilience;
  const aa = res.adaptive_admission;
  if (aa.max_limit !== null && aa.max_limit < aa.min_limit) {
    add('/resilience/adaptive_admission/max_limit', 'adaptive_admission.limits', `max_limit (${aa.max_limit}) must not be below min_limit (${aa.min_limit})`);
  }
  const bo = res.brownout;
  if (bo.recover_inflight_percent >= bo.trigger_inflight_percent) {
    add(
      '/resilience/brownout/recover_inflight_percent',
      'brownout.thresholds',
      `recover_inflight_percent (${bo.recover_inflight_percent}) must be below trigger_inflight_percent (${bo.trigger_inflight_percent})`,
    );
  }
  checkBackoff(res.retries, '/resilience/retries', add);

  const ruleNames = new Set<string>();
  r?.scoped_rate_limits?.forEach((rule, i) => {
    const ptr = `/resilience/scoped_rate_limits/${i}`;
    if (ruleNames.has(rule.name)) add(`${ptr}/name`, 'rate_limit.duplicate', `rate limit '${rule.name}' is defined twice`);
    ruleNames.add(rule.name);
    unknownIn(rule.route_allowlist, `${ptr}/route_allowlist`);
    const key = config.resilience.scoped_rate_limits[i]?.key ?? null;
    if (rule.scope === 'route' && key !== null) add(`${ptr}/key`, 'rate_limit.key', 'scope route takes no key (the upstream is the key)');
    else if (rule.scope === 'tenant' && key === null) add(`${ptr}/key`, 'rate_limit.key', 'scope tenant needs a key (e.g. header:x-tenant)');
    else if (key !== null && !KEY_SPEC.test(key)) {
      add(`${ptr}/key`, 'rate_limit.key', 'key must be path, authority, method, cid, sticky-cid, peer_ip, client_ip, bearer_token, header:<n>, cookie:<n> or query:<n>');
    }
  });

  for (const name of Object.keys(input.upstream)) {
    const u = input.upstream[name]!;
    const base = `/upstream/${escapePointer(name)}`;
    issues.push(...timeoutIssues(u.timeouts, `${base}/timeouts`));
    const own = config.upstream[name]?.resilience;
    if (own?.retries) checkBackoff(own.retries, `${base}/resilience/retries`, add);
    const ownRatio = u.resilience?.retry_budget?.ratio_percent;
    const mapRatio = r?.retry_budget?.per_route_ratio_percent?.[name];
    if (ownRatio !== undefined && mapRatio !== undefined && ownRatio !== mapRatio) {
      add(
        `${base}/resilience/retry_budget/ratio_percent`,
        'config.alias_conflict',
        `resilience.retry_budget.per_route_ratio_percent also sets this upstream's ratio (${mapRatio}); give one of them, or both with the same value`,
      );
    }
  }
  return issues;
}

function checkBackoff(r: { readonly backoff_base_ms: number; readonly backoff_max_ms: number }, ptr: string, add: Add): void {
  if (r.backoff_base_ms > r.backoff_max_ms) {
    add(`${ptr}/backoff_base_ms`, 'retries.backoff', `backoff_base_ms (${r.backoff_base_ms}) must not exceed backoff_max_ms (${r.backoff_max_ms})`);
  }
}
