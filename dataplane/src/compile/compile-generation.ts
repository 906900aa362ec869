/**
 * compileGeneration: a parsed, validated Config → an immutable Generation (route index,
 * upstreams with transports and balancers). Pure apart from reading TLS files — CAs and client certificates (upstream-tls-material.ts)
 * and asking LongLivedState for shared transports/cursors. Listener certificates are not
 * read here (ingress does that). On failure nothing is created (the CA file and the route
 * table, the parts that can fail, come before any LongLivedState entry) and the caller NACKs;
 * the generation being served is untouched.
 *
 * Cost (measured on configs of 10 000–100 000 generated backends, Node 24, heap after GC):
 * before lazy pools, every backend created its undici Pool here: ~20 KB of heap and ~40 µs
 * each (100 000 backends: 9 s of blocked event loop, 2.3 GB RSS). Pools are now created on
 * a backend's first request (runtime/lazy-transport.ts): a compiled backend costs ~1.0 KB
 * (+0.25 KB in retain for its health entry) and ~6 µs; an upstream with a route ~3.6 KB; a
 * header/query/cookie matcher ~0.3 KB; a backend with an active health_check still costs a
 * ~20 KB probe pool when retain starts its checker. apply/generation-budget.ts estimates a
 * generation from these coefficients before compiling it.
 */

import { type Config, type ConfigIssue, upstreamPolicy } from '@spooky/config';
import { CandidateFilter } from '../balancing/candidates.ts';
import { createBalancer } from '../balancing/create-balancer.ts';
import { compileForwardingPolicy } from '../forwarding/forwarding-policy.ts';
import { SettingsInterner } from '../forwarding/transport-settings.ts';
import { type HealthSpec, healthKey } from '../health/health-monitor.ts';
import { compileRouteTable, type RouteInput } from '../routing/route-table.ts';
import { backendStatsKey } from '../runtime/backend-stats.ts';
import type { CompiledBackend, CompiledUpstream, Generation } from '../runtime/generation.ts';
import type { LongLivedState } from '../runtime/long-lived-state.ts';
import { TlsMaterialReader } from './upstream-tls-material.ts';

export type CompileResult = { ok: true; generation: Generation } | { ok: false; issues: ConfigIssue[] };

export function compileGeneration(config: Config, ref: Generation['ref'], state: LongLivedState): CompileResult {
  const issues: ConfigIssue[] = [];
  // TLS files (CAs, client certificates) of every upstream, read before anything is created.
  const tlsReader = new TlsMaterialReader(issues);
  const names = Object.keys(config.upstream).sort();
  const tlsOf = new Map(names.map((name) => [name, tlsReader.forUpstream(config, name)]));
  if (issues.length > 0) return { ok: false, issues };

  const perf = config.performance;

  // The route table first: it is the part that can fail, and it needs nothing from
  // LongLivedState. Only once it compiled are state entries (transports, stats, cursors,
  // health handles) asked for, so a failed compile leaves LongLivedState untouched.
  const routes: RouteInput[] = [];
  for (const name of names) {
    const upstream = config.upstream[name];
    if (upstream?.route) routes.push({ upstream: name, route: upstream.route, trafficSplit: upstream.traffic_split, mirror: upstream.mirror });
  }
  const routeTable = compileRouteTable(routes, issues);
  if (issues.length > 0) return { ok: false, issues };

  const transportKeys = new Set<string>();
  const cursorKeys = new Set<string>();
  const healthSpecs = new Map<string, HealthSpec>();
  const interner = new SettingsInterner();
  const upstreams = new Map<string, CompiledUpstream>();
  for (const name of names) {
    const upstream = config.upstream[name];
    if (upstream === undefined) continue;
    const policy = upstreamPolicy(config, name);
    // The upstream's own timeouts (else performance's): one settings object per distinct
    // value, so upstreams with equal settings share it (and its hashed key).
    const t = policy.timeouts;
    const tls = tlsOf.get(name)!;
    const settings = interner.intern({
      connectTimeoutMs: t.upstream_connect_timeout_ms,
      headersTimeoutMs: t.upstream_headers_timeout_ms,
      bodyIdleTimeoutMs: t.upstream_body_idle_timeout_ms,
      bodyTotalTimeoutMs: t.upstream_body_total_timeout_ms,
      verifyCertificates: tls.verifyCertificates,
      ca: tls.ca,
      serverName: tls.serverName,
      clientCert: tls.clientCert,
    });
    const probeTransport = {
      connectTimeoutMs: settings.connectTimeoutMs,
      verifyCertificates: settings.verifyCertificates,
      ca: settings.ca,
      serverName: settings.serverName,
      clientCert: settings.clientCert,
    };
    const stats = upstream.backends.map((b) => state.backendStats(name, b.address));
    const backends: CompiledBackend[] = upstream.backends.map((b, i) => {
      const { key, transport: pooled } = state.transport(name, b.address, settings);
      transportKeys.add(key);
      healthSpecs.set(healthKey(name, b.address), { upstream: name, backendId: b.id, address: b.address, check: b.health_check, transport: probeTransport });
      const stateKey = backendStatsKey(name, b.address);
      return {
        id: b.id,
        address: b.address,
        weight: b.weight,
        transport: pooled,
        health: state.health.handle(name, b.address),
        stats: stats[i] as (typeof stats)[number],
        breaker: state.breakers.breaker(stateKey, policy.circuit_breaker),
        inflight: state.inflight.backend(stateKey, perf.per_backend_inflight_limit),
      };
    });
    const signature = backends.map((b) => `${b.address}*${b.weight}`).join(',');
    const balancer = createBalancer(upstream.load_balancing, backends, {
      backendStats: stats,
      roundRobinState: () => {
        const { key, state: cursor } = state.roundRobinState(name, signature, backends.length);
        cursorKeys.add(key);
        return cursor;
      },
    });
    const candidates = new CandidateFilter(backends.map((b) => b.health), state.health);
    const retryWindow = state.budgets.forUpstream(name, policy.retry_budget.ratio_percent);
    const inflight = state.inflight.upstream(name, perf.per_upstream_inflight_limit);
    const forwarding = compileForwardingPolicy(config, name);
    upstreams.set(name, { name, backends, balancer, candidates, policy, retryWindow, inflight, forwarding });
  }

  const generation: Generation = {
    ref,
    config,
    routes: routeTable,
    upstreams,
    stateKeys: { transports: transportKeys, cursors: cursorKeys, health: healthSpecs },
    health: state.health,
    backendTls: new Map(names.map((name) => [name, tlsOf.get(name)!])),
  };
  return { ok: true, generation };
}
