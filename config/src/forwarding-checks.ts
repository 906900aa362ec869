/**
 * Semantic checks of the forwarding header policies. Pointers are into the input document.
 *  - every `trusted_proxies` entry is a CIDR or a bare address (cidr.ts; host bits below the
 *    prefix are refused) → `forwarded_headers.trusted_proxy.invalid` at the entry;
 *  - `append` / `preserve` believe inbound headers only from trusted peers, so with no
 *    trusted proxy they would silently act as `overwrite` → `forwarded_headers.trust_required`;
 *  - `host_rewrite` is required by `host_policy: rewrite` and refused otherwise, and must be a
 *    host[:port].
 */
import { parseCidr } from './cidr.ts';
import { escapePointer } from './pointer.ts';
import type { ConfigInput } from './schema.ts';
import type { Config, ConfigIssue } from './types.ts';

type Add = (pointer: string, code: string, message: string) => void;

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
const PORT = /^([1-9][0-9]{0,4})$/;

/** A Host header value: name, IPv4 or [IPv6], with an optional port 1–65535. */
export function isHostHeaderValue(value: string): boolean {
  let host = value;
  let port: string | null = null;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return false;
    host = value.slice(0, close + 1);
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    if (!host.slice(1, -1).includes(':') || parseCidr(host.slice(1, -1)) === null) return false;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0) {
      host = value.slice(0, colon);
      port = value.slice(colon + 1);
    }
    if (!HOST_NAME.test(host)) return false;
  }
  return port === null || (PORT.test(port) && Number(port) <= 65535);
}

export function forwardingIssues(input: ConfigInput, config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add: Add = (pointer, code, message) => issues.push({ pointer, code, message });
  checkProxies(input.forwarded_headers?.trusted_proxies, '/forwarded_headers', add);
  const global = config.forwarded_headers;
  if (global.mode !== 'overwrite' && global.trusted_proxies.length === 0 && input.forwarded_headers?.mode !== undefined) {
    trustRequired('/forwarded_headers/mode', global.mode, add);
  }
  for (const name of Object.keys(config.upstream)) {
    const up = config.upstream[name]!;
    const given = input.upstream[name];
    const base = `/upstream/${escapePointer(name)}`;
    checkProxies(given?.forwarded_headers?.trusted_proxies, `${base}/forwarded_headers`, add);
    const own = up.forwarded_headers;
    if (own !== null && own.mode !== 'overwrite' && own.trusted_proxies.length === 0) {
      trustRequired(given?.forwarded_headers?.mode !== undefined ? `${base}/forwarded_headers/mode` : `${base}/forwarded_headers/trusted_proxies`, own.mode, add);
    }
    if (up.host_policy === 'rewrite' && up.host_rewrite === null) {
      add(`${base}/host_policy`, 'upstream.host_rewrite.required', 'host_policy rewrite needs host_rewrite (the Host to send)');
    } else if (up.host_policy !== 'rewrite' && up.host_rewrite !== null) {
      add(`${base}/host_rewrite`, 'upstream.host_rewrite.unused', `host_rewrite is only used by host_policy rewrite, not ${up.host_policy}`);
    } else if (up.host_rewrite !== null && !isHostHeaderValue(up.host_rewrite)) {
      add(`${base}/host_rewrite`, 'upstream.host_rewrite.invalid', 'host_rewrite must be a host name, IPv4 or [IPv6] address, with an optional :port');
    }
  }
  return issues;
}

function checkProxies(list: readonly string[] | undefined, ptr: string, add: Add): void {
  list?.forEach((entry, i) => {
    if (parseCidr(entry.trim()) === null) {
      add(`${ptr}/trusted_proxies/${i}`, 'forwarded_headers.trusted_proxy.invalid', 'must be an IPv4 or IPv6 CIDR (address/prefix, no host bits below the prefix) or an address');
    }
  });
}

function trustRequired(pointer: string, mode: string, add: Add): void {
  add(
    pointer,
    'forwarded_headers.trust_required',
    `mode ${mode} believes inbound headers only from trusted_proxies, and none are given (it would act as overwrite); list the proxies' CIDRs (0.0.0.0/0 and ::/0 trust every peer)`,
  );
}
