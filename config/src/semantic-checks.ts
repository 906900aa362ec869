/**
 * Semantic checks: rules a schema cannot express. Pointers refer to the *input* document
 * (`/listen/...` when the single-listener form was used, `/listeners/<i>/...` otherwise).
 */
import { parseBackendAddress } from './backend-address.ts';
import { forwardingIssues } from './forwarding-checks.ts';
import { listenerTlsIssues } from './listener-tls-checks.ts';
import { observabilityIssues } from './observability-checks.ts';
import { escapePointer } from './pointer.ts';
import { checkRegexCost } from './regex-cost.ts';
import { resilienceIssues } from './resilience-checks.ts';
import type { ConfigInput } from './schema.ts';
import type { Config, ConfigIssue, Matcher, Route } from './types.ts';
import { upstreamTlsIssues } from './upstream-tls.ts';

const HOST_PATTERN = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const IP_PATTERN = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/;

export function semanticIssues(input: ConfigInput, config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (pointer: string, code: string, message: string) => issues.push({ pointer, code, message });

  checkListeners(input, config, add);

  const names = Object.keys(config.upstream);
  if (names.length === 0) add('/upstream', 'upstream.missing', 'at least one upstream is required');

  const routeKeys = new Map<string, string>();
  for (const name of names) {
    const up = config.upstream[name]!;
    const base = `/upstream/${escapePointer(name)}`;
    if (up.route) {
      checkRoute(up.route, `${base}/route`, add);
      const key = routeKey(up.route);
      const other = routeKeys.get(key);
      if (other !== undefined) {
        add(`${base}/route`, 'route.duplicate', `route (host, path_prefix, method, matchers) is the same as upstream '${other}'`);
      } else {
        routeKeys.set(key, name);
      }
    }
    checkTargets(config, name, base, add);
    const lb = up.load_balancing;
    if (lb.key !== null && lb.type !== 'consistent-hash') {
      const ptr = input.upstream[name]?.load_balancing ? `${base}/load_balancing/key` : '/load_balancing/key';
      add(ptr, 'load_balancing.key.unused', `key is only used by consistent-hash, not ${lb.type}`);
    }
    const ids = new Set<string>();
    const addresses = new Set<string>();
    up.backends.forEach((b, i) => {
      const bp = `${base}/backends/${i}`;
      if (ids.has(b.id)) add(`${bp}/id`, 'backend.id.duplicate', `backend id '${b.id}' is used twice in this upstream`);
      ids.add(b.id);
      if (!parseBackendAddress(input.upstream[name]!.backends[i]!.address)) {
        add(`${bp}/address`, 'backend.address.invalid', 'address must be http://host:port, https://host:port or host:port, without a path');
      } else if (addresses.has(b.address)) {
        add(`${bp}/address`, 'backend.address.duplicate', 'two backends of this upstream have the same address');
      }
      addresses.add(b.address);
      const hc = b.health_check;
      if (hc && hc.timeout_ms > hc.interval) {
        add(`${bp}/health_check/timeout_ms`, 'health.timeout_exceeds_interval', `timeout_ms (${hc.timeout_ms}) must not exceed interval (${hc.interval})`);
      }
    });
  }

  issues.push(...resilienceIssues(input, config));
  issues.push(...upstreamTlsIssues(input, config));
  issues.push(...forwardingIssues(input, config));
  issues.push(...observabilityIssues(input, config));
  const p = config.performance;
  if (p.max_connections_per_ip > p.max_active_connections) {
    add(
      '/performance/max_connections_per_ip',
      'connections.order',
      `max_connections_per_ip (${p.max_connections_per_ip}) must not exceed max_active_connections (${p.max_active_connections})`,
    );
  }
  return issues;
}

type Add = (pointer: string, code: string, message: string) => void;

function checkRoute(route: Route, ptr: string, add: Add): void {
  const host = route.host;
  if (host !== null && !HOST_PATTERN.test(host) && !IP_PATTERN.test(host)) {
    add(`${ptr}/host`, 'route.host.invalid', 'host must be a hostname, an IP address or *.suffix');
  }
  for (const field of ['headers', 'query', 'cookies'] as const) {
    const names = new Set<string>();
    route[field].forEach((m, i) => {
      const mp = `${ptr}/${field}/${i}`;
      const kinds = (['exact', 'prefix', 'present', 'regex'] as const).filter((k) => m[k] !== undefined);
      if (kinds.length !== 1) add(mp, 'route.matcher.kind', 'a matcher needs exactly one of exact, prefix, present, regex');
      if (names.has(m.name)) add(`${mp}/name`, 'route.matcher.duplicate', `${field} matcher '${m.name}' is given twice`);
      names.add(m.name);
      if (field === 'headers' && !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(m.name)) {
        add(`${mp}/name`, 'route.matcher.name', 'header names are tokens (letters, digits, -, _ …)');
      }
      if (m.regex !== undefined) {
        const verdict = checkRegexCost(m.regex);
        if (!verdict.ok) add(`${mp}/regex`, verdict.code, verdict.reason);
      }
    });
  }
}

function matcherKey(m: Matcher): string {
  return JSON.stringify([m.name, m.exact ?? null, m.prefix ?? null, m.present ?? null, m.regex ?? null]);
}

/** Two routes with the same key would always tie: a configuration error. */
function routeKey(r: Route): string {
  const ms = (list: readonly Matcher[]) => list.map(matcherKey).sort().join(',');
  return [r.host ?? '*any*', r.path_prefix, r.method ?? '*any*', ms(r.headers), ms(r.query), ms(r.cookies)].join(' ');
}

/** traffic_split and mirror targets exist, are not nested, and mirror is not itself. */
function checkTargets(config: Config, name: string, base: string, add: Add): void {
  const up = config.upstream[name]!;
  up.traffic_split.forEach((t, i) => {
    const target = config.upstream[t.upstream];
    if (!target) add(`${base}/traffic_split/${i}/upstream`, 'upstream.split.unknown', `no upstream named '${t.upstream}'`);
    else if (t.upstream !== name && target.traffic_split.length > 0) {
      add(`${base}/traffic_split/${i}/upstream`, 'upstream.split.nested', `'${t.upstream}' has a traffic_split itself; splits do not chain`);
    }
  });
  if (up.mirror) {
    if (!config.upstream[up.mirror.upstream]) add(`${base}/mirror/upstream`, 'upstream.mirror.unknown', `no upstream named '${up.mirror.upstream}'`);
    else if (up.mirror.upstream === name) add(`${base}/mirror/upstream`, 'upstream.mirror.self', 'an upstream cannot mirror to itself');
  }
}

function checkListeners(input: ConfigInput, config: Config, add: Add): void {
  if (input.listen && input.listeners) {
    add('/listeners', 'listener.ambiguous', 'give either listen or listeners, not both');
    return;
  }
  if (config.listeners.length === 0) {
    add('', 'listener.missing', 'a listener is required (listen or listeners)');
    return;
  }
  const binds = new Set<string>();
  config.listeners.forEach((l, i) => {
    const ptr = input.listen ? '/listen' : `/listeners/${i}`;
    const bind = `${l.address}|${l.port}`;
    if (binds.has(bind)) add(`${ptr}/port`, 'listener.duplicate_bind', `address ${l.address} port ${l.port} is bound twice`);
    binds.add(bind);
    const tlsInput = (input.listen ?? input.listeners?.[i])?.tls;
    if (tlsInput) listenerTlsIssues(tlsInput, l.tls, ptr, add);
  });
}
