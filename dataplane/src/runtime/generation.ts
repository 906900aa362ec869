/**
 * A Generation: one validated config compiled into what the request path reads — the route
 * index, upstream pools with their balancers. Immutable once built; a request pins the one
 * current at accept time and never sees another. Built only by compileGeneration().
 */
import type { Config, UpstreamPolicy } from '@spooky/config';
import type { Balancer } from '../balancing/balancer.ts';
import type { CandidateFilter } from '../balancing/candidates.ts';
import type { ClientCertificate } from '../forwarding/backend-connector.ts';
import type { ForwardingPolicy } from '../forwarding/forwarding-policy.ts';
import type { HealthHandle } from '../health/health-handle.ts';
import type { HealthSpec, HealthView } from '../health/health-monitor.ts';
import type { BackendTransport } from '../http/backend-transport.ts';
import type { CircuitBreaker } from '../resilience/circuit-breaker.ts';
import type { InflightGauge } from '../resilience/inflight-limiter.ts';
import type { RetryWindow } from '../resilience/retry-budget.ts';
import type { RouteTable } from '../routing/route-table.ts';
import type { BackendStats } from './backend-stats.ts';

export interface CompiledBackend {
  readonly id: string;
  /** Canonical `http(s)://host:port`. */
  readonly address: string;
  readonly weight: number;
  /** Shared pool from LongLivedState (survives swaps while named with equal settings). */
  readonly transport: BackendTransport;
  /** Its health (stable, from LongLivedState's HealthMonitor), resolved once at compile. */
  readonly health: HealthHandle;
  /** Live load and latency (LongLivedState, survives swaps); fed only by Attempt. */
  readonly stats: BackendStats;
  /** Its circuit breaker (LongLivedState's registry, survives swaps). */
  readonly breaker: CircuitBreaker;
  /** Its in-flight gauge (`per_backend_inflight_limit`; 0 = no cap, then never acquired). */
  readonly inflight: InflightGauge;
}

export interface CompiledUpstream {
  readonly name: string;
  readonly backends: readonly CompiledBackend[];
  readonly balancer: Balancer;
  /** Healthy candidates for `balancer.pick`, from the backends' health handles (no per-request keys). */
  readonly candidates: CandidateFilter;
  /** upstreamPolicy(config, name): retries, breaker, budget, hedging, timeouts. */
  readonly policy: UpstreamPolicy;
  /** Its retry-budget window (LongLivedState's RetryBudgets). */
  readonly retryWindow: RetryWindow;
  /** Its in-flight gauge (`per_upstream_inflight_limit`). */
  readonly inflight: InflightGauge;
  /** Host policy, forwarded headers, Via, tracing (compileForwardingPolicy). */
  readonly forwarding: ForwardingPolicy;
}

/** Stable LongLivedState keys a generation uses; retain() keeps exactly these. */
export interface StateKeys {
  readonly transports: ReadonlySet<string>;
  readonly cursors: ReadonlySet<string>;
  /** Health-tracked backends by healthKey(upstream, address), with their health_check. */
  readonly health: ReadonlyMap<string, HealthSpec>;
}

export interface Generation {
  /** Identity from the control plane; null for a config loaded without one (tests, local file). */
  readonly ref: { readonly scope: string; readonly seq: number; readonly digest: string } | null;
  readonly config: Config;
  readonly routes: RouteTable;
  readonly upstreams: ReadonlyMap<string, CompiledUpstream>;
  readonly stateKeys: StateKeys;
  /** LongLivedState's health monitor: the attempt loop filters and reports through it. */
  readonly health: HealthView;
  /**
   * How tunnels (WebSocket upgrades, tunnel/) reach `https://` backends on their own
   * connections, per upstream: its resolved TLS material as for traffic (CA PEM or null =
   * system roots, SNI name, client certificate). Absent = verify against the system roots.
   */
  readonly backendTls?: ReadonlyMap<
    string,
    { readonly verifyCertificates: boolean; readonly ca: string | null; readonly serverName: string | null; readonly clientCert: ClientCertificate | null }
  >;
}
