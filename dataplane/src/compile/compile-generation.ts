/**
 * compileGeneration: a parsed, validated Config → an immutable Generation (route index,
 * upstreams with transports and balancers). Pure apart from reading `upstream_tls.ca_file`
 * and asking LongLivedState for shared transports/cursors. Listener certificates are not
 * read here (ingress does that). On failure nothing is created and the caller NACKs; the
 * generation being served is untouched.
 */
import { readFileSync } from 'node:fs';
import type { Config, ConfigIssue } from '@spooky/config';
import { createBalancer } from '../balancing/create-balancer.ts';
import type { TransportSettings } from '../forwarding/transport-settings.ts';
import { compileRouteTable } from '../routing/route-table.ts';
import type { CompiledBackend, CompiledUpstream, Generation } from '../runtime/generation.ts';
import type { LongLivedState } from '../runtime/long-lived-state.ts';

export type CompileResult = { ok: true; generation: Generation } | { ok: false; issues: ConfigIssue[] };

export function compileGeneration(config: Config, ref: Generation['ref'], state: LongLivedState): CompileResult {
  const issues: ConfigIssue[] = [];
  const ca = readCaFile(config.upstream_tls.ca_file, issues);
  if (issues.length > 0) return { ok: false, issues };

  const perf = config.performance;
  const settings: TransportSettings = {
    connectTimeoutMs: perf.upstream_connect_timeout_ms,
    headersTimeoutMs: perf.upstream_headers_timeout_ms,
    bodyIdleTimeoutMs: perf.upstream_body_idle_timeout_ms,
    verifyCertificates: config.upstream_tls.verify_certificates,
    ca,
  };

  const transportKeys = new Set<string>();
  const cursorKeys = new Set<string>();
  const upstreams = new Map<string, CompiledUpstream>();
  const routes: Array<{ upstream: string; route: NonNullable<Config['upstream'][string]['route']> }> = [];

  for (const name of Object.keys(config.upstream).sort()) {
    const upstream = config.upstream[name];
    if (upstream === undefined) continue;
    if (upstream.route) routes.push({ upstream: name, route: upstream.route });
    const backends: CompiledBackend[] = upstream.backends.map((b) => {
      const { key, transport } = state.transport(name, b.address, settings);
      transportKeys.add(key);
      return { id: b.id, address: b.address, weight: b.weight, transport };
    });
    const signature = backends.map((b) => `${b.address}*${b.weight}`).join(',');
    const balancer = createBalancer(upstream.load_balancing.type, backends, {
      roundRobinState: () => {
        const { key, state: cursor } = state.roundRobinState(name, signature, backends.length);
        cursorKeys.add(key);
        return cursor;
      },
    });
    upstreams.set(name, { name, backends, balancer });
  }

  const generation: Generation = {
    ref,
    config,
    routes: compileRouteTable(routes),
    upstreams,
    stateKeys: { transports: transportKeys, cursors: cursorKeys },
  };
  return { ok: true, generation };
}

/** PEM text of the CA file, or null when none is configured. Errors never include file content. */
function readCaFile(path: string | null, issues: ConfigIssue[]): string | null {
  if (path === null) return null;
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      issues.push({ pointer: '/upstream_tls/ca_file', code: 'tls.ca_file.unreadable', message: `${path} holds no PEM certificate` });
      return null;
    }
    return text;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    issues.push({
      pointer: '/upstream_tls/ca_file',
      code: 'tls.ca_file.unreadable',
      message: `cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
    });
    return null;
  }
}
