/**
 * Semantic checks: rules a schema cannot express. Pointers refer to the *input* document
 * (`/listen/...` when the single-listener form was used, `/listeners/<i>/...` otherwise).
 */
import { parseBackendAddress } from './backend-address.ts';
import type { ConfigInput } from './schema.ts';
import type { Config, ConfigIssue } from './types.ts';

/** Most routes (= upstreams) one config may hold; the route index is built for this size. */
export const MAX_ROUTES = 10_000;

const HOST_PATTERN = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const IP_PATTERN = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/;

export function semanticIssues(input: ConfigInput, config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (pointer: string, code: string, message: string) => issues.push({ pointer, code, message });

  checkListeners(input, config, add);

  const names = Object.keys(config.upstream);
  if (names.length === 0) add('/upstream', 'upstream.missing', 'at least one upstream is required');
  if (names.length > MAX_ROUTES) add('/upstream', 'budget.routes', `${names.length} routes; the limit is ${MAX_ROUTES}`);

  const routeKeys = new Map<string, string>();
  for (const name of names) {
    const up = config.upstream[name]!;
    const base = `/upstream/${escapePointer(name)}`;
    const host = up.route.host;
    if (host !== null && !HOST_PATTERN.test(host) && !IP_PATTERN.test(host)) {
      add(`${base}/route/host`, 'route.host.invalid', 'host must be a hostname, an IP address or *.suffix');
    }
    const key = `${host ?? '*any*'} ${up.route.path_prefix} ${up.route.method ?? '*any*'}`;
    const other = routeKeys.get(key);
    if (other !== undefined) {
      add(`${base}/route`, 'route.duplicate', `route (host, path_prefix, method) is the same as upstream '${other}'`);
    } else {
      routeKeys.set(key, name);
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
    });
  }

  const p = config.performance;
  const order: [keyof typeof p, keyof typeof p][] = [
    ['upstream_connect_timeout_ms', 'upstream_headers_timeout_ms'],
    ['upstream_headers_timeout_ms', 'upstream_body_idle_timeout_ms'],
    ['upstream_body_idle_timeout_ms', 'request_timeout_ms'],
  ];
  for (const [small, large] of order) {
    if (p[small] > p[large]) {
      add(`/performance/${small}`, 'timeouts.order', `${small} (${p[small]}) must not exceed ${large} (${p[large]})`);
    }
  }
  return issues;
}

type Add = (pointer: string, code: string, message: string) => void;

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
  });
}

/** RFC 6901 escaping of one pointer segment. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
