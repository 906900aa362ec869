/**
 * ForwardingPolicy: one upstream's forwarding header settings compiled once per generation —
 * its forwarded_headers block (its own, else the global one) with the trusted-proxy matcher,
 * the Via values per client protocol, the host policy with, for `upstream`, each backend's
 * Host value by backend index, and the tracing settings.
 */
import type { Config } from '@spooky/config';
import type { ClientProtocol } from '../http/exchange.ts';
import { compileTrustedProxies, type TrustedProxies } from './trusted-proxies.ts';

export interface ForwardingPolicy {
  readonly mode: 'overwrite' | 'append' | 'preserve';
  readonly trusted: TrustedProxies;
  /** `<version> <pseudonym>` per client protocol; null = no Via. */
  readonly via: Readonly<Record<ClientProtocol, string>> | null;
  readonly hostPolicy: 'pass_through' | 'rewrite' | 'upstream';
  /** The Host sent with host_policy rewrite, else null. */
  readonly hostRewrite: string | null;
  /** host_policy upstream: the Host for each backend (by index), else null. */
  readonly backendHosts: readonly string[] | null;
  readonly tracing: boolean;
  readonly samplePercent: number;
}

/**
 * A backend's Host value: host[:port] of its address, the port left out when it is the
 * scheme's default (what a client of that URL would send).
 */
export function backendHost(address: string): string {
  return new URL(address).host;
}

export function compileForwardingPolicy(config: Config, name: string): ForwardingPolicy {
  const up = config.upstream[name];
  const block = up?.forwarded_headers ?? config.forwarded_headers;
  const via = block.via;
  const hostPolicy = up?.host_policy ?? 'pass_through';
  return {
    mode: block.mode,
    trusted: compileTrustedProxies(block.mode === 'overwrite' ? [] : block.trusted_proxies),
    via: via === false ? null : { h3: `3 ${via}`, h2: `2 ${via}`, 'http/1.1': `1.1 ${via}` },
    hostPolicy,
    hostRewrite: hostPolicy === 'rewrite' ? (up?.host_rewrite ?? null) : null,
    backendHosts: hostPolicy === 'upstream' && up !== undefined ? up.backends.map((b) => backendHost(b.address)) : null,
    tracing: config.tracing.enabled,
    samplePercent: config.tracing.sample_percent,
  };
}

/** Default policy (tests and callers without a compiled upstream): overwrite, Via spooky, tracing on. */
export const DEFAULT_FORWARDING: ForwardingPolicy = {
  mode: 'overwrite',
  trusted: compileTrustedProxies([]),
  via: { h3: '3 spooky', h2: '2 spooky', 'http/1.1': '1.1 spooky' },
  hostPolicy: 'pass_through',
  hostRewrite: null,
  backendHosts: null,
  tracing: true,
  samplePercent: 100,
};
