/**
 * State that survives generation swaps, keyed by stable identity (upstream name + backend
 * address): one transport (undici Pool) per backend and transport settings, round-robin
 * cursors per upstream and backend list. compile/ asks for entries (creating them when new);
 * `retain(generation)` drops and closes what the generation no longer names. Health (the
 * HealthMonitor: probes, passive ejection) lives here under upstream + address; retain()
 * reconciles it with the generation. Circuit breakers (`breakers`) live here under the same
 * upstream + address key as the stats; retain() drops those of backends no generation names.
 * Backend DNS refresh (`dns`, backend-dns-refresher.ts) follows the served generation from
 * retain(); a changed address set re-creates the pools of that host name's backends only.
 */
import { createHash } from 'node:crypto';
import type { RoundRobinState } from '../balancing/round-robin.ts';
import { createRoundRobinState } from '../balancing/round-robin.ts';
import type { TransportSettings } from '../forwarding/transport-settings.ts';
import { settingsKey } from '../forwarding/transport-settings.ts';
import { createUndiciProber } from '../forwarding/undici-prober.ts';
import { createUndiciTransport } from '../forwarding/undici-transport.ts';
import { HealthMonitor, type HealthMonitorOptions } from '../health/health-monitor.ts';
import type { BackendTransport } from '../http/backend-transport.ts';
import { AdaptiveAdmission } from '../resilience/adaptive-admission.ts';
import { Brownout } from '../resilience/brownout.ts';
import { BreakerRegistry } from '../resilience/circuit-breaker.ts';
import { InflightLimiter } from '../resilience/inflight-limiter.ts';
import { RetryBudgets } from '../resilience/retry-budget.ts';
import { RouteQueue } from '../resilience/route-queue.ts';
import { ScopedRateLimiters } from '../resilience/token-bucket-limiter.ts';
import { BackendDnsRefresher, backendHost, type DnsRefreshReport, type DnsResolver } from './backend-dns-refresher.ts';
import { BackendStats, backendStatsKey } from './backend-stats.ts';
import type { Generation } from './generation.ts';
import { LazyTransport, type TransportFactory } from './lazy-transport.ts';

export type { TransportFactory } from './lazy-transport.ts';

export class LongLivedState {
  readonly #createTransport: TransportFactory;
  readonly #transports = new Map<string, LazyTransport>();
  readonly #cursors = new Map<string, RoundRobinState>();
  /** Active requests and latency EWMA per backendStatsKey(upstream, address). */
  readonly #stats = new Map<string, BackendStats>();
  /** settingsKey per settings object, hashed: it holds the CA's PEM text, too long to repeat in every backend's key. */
  readonly #settingsKeys = new WeakMap<TransportSettings, string>();
  #closed = false;
  /** Health of every backend the served generation names (survives swaps). */
  readonly health: HealthMonitor;
  /** Circuit breakers by backendStatsKey(upstream, address) (survive swaps). */
  readonly breakers = new BreakerRegistry();
  /** Retry budget: the global window and one per upstream (survive swaps). */
  readonly budgets = new RetryBudgets({ enabled: true, ratioPercent: 10 });
  /** In-flight gauges: global, per upstream, per backend (survive swaps; limits follow the served generation). */
  readonly inflight = new InflightLimiter(4096);
  /**
   * Requests waiting, per upstream: for a backend permit (every candidate's
   * per_backend_inflight_limit full; woken FIFO by each permit release, attempt.ts), or for an
   * upstream permit (per_upstream_inflight_limit full; handed the permit of a finishing request,
   * admit-request.ts: the waiter returns whether it took it).
   */
  readonly routeQueue = new RouteQueue<() => void, () => boolean>({ default_cap: 512, global_cap: 2048, caps: {} });
  /** Scoped rate limits of the served generation (buckets of rules that keep their name survive swaps). */
  readonly rateLimits = new ScopedRateLimiters([]);
  /** Adaptive concurrency limit fed by upstream latencies (follows the served generation's policy). */
  readonly admission = new AdaptiveAdmission({ enabled: false, min_limit: 64, max_limit: null, decrease_step: 16, increase_step: 16, high_latency_ms: 500 }, 4096);
  /** Brownout (off until a generation enables it); while active, hedging is off. */
  readonly brownout = new Brownout({ enabled: false, trigger_inflight_percent: 90, recover_inflight_percent: 60, core_routes: [] });

  /** Backend DNS refresh (off until a generation enables it); one timer per process. */
  readonly dns: BackendDnsRefresher;

  /**
   * `createTransport` defaults to undici; `health` (prober factory, scheduler) too; `dns`
   * (resolver: the system's; report: where refresh results go — metrics, logs). Tests may inject fakes.
   */
  constructor(options?: {
    readonly createTransport?: TransportFactory;
    readonly health?: Partial<HealthMonitorOptions>;
    readonly dns?: { readonly resolve?: DnsResolver; readonly report?: (report: DnsRefreshReport) => void; readonly timeoutMs?: number };
  }) {
    this.#createTransport = options?.createTransport ?? createUndiciTransport;
    this.health = new HealthMonitor({ createProber: createUndiciProber, ...options?.health });
    this.dns = new BackendDnsRefresher({ ...options?.dns, onChange: (host) => this.#renewHost(host) });
  }

  /** A backend host name resolves to a new address set: fresh pools for its backends, nothing else. */
  #renewHost(host: string): void {
    for (const transport of this.#transports.values()) {
      if (backendHost(transport.address) === host) void transport.reset().catch(() => undefined);
    }
    void this.health.renewProbers((address) => backendHost(address) === host);
  }

  /**
   * The transport for a backend, an entry created on first use; its pool is created on its
   * first request (lazy-transport.ts). Settings are part of the identity. Pass the same
   * settings object for every backend of a generation: its key is computed once.
   */
  transport(upstream: string, address: string, settings: TransportSettings): { key: string; transport: BackendTransport } {
    if (this.#closed) throw new Error('LongLivedState is closed');
    let settingsId = this.#settingsKeys.get(settings);
    if (settingsId === undefined) {
      settingsId = createHash('sha256').update(settingsKey(settings)).digest('base64url').slice(0, 22);
      this.#settingsKeys.set(settings, settingsId);
    }
    const key = `${upstream}\u0000${address}\u0000${settingsId}`;
    let transport = this.#transports.get(key);
    if (transport === undefined) {
      transport = new LazyTransport(address, settings, this.#createTransport);
      this.#transports.set(key, transport);
    }
    return { key, transport };
  }

  /** Entry counts (tests, diagnostics): transports, how many of them opened their pool, cursors, stats. */
  sizes(): { readonly transports: number; readonly pools: number; readonly cursors: number; readonly stats: number } {
    let pools = 0;
    for (const t of this.#transports.values()) if (t.created) pools++;
    return { transports: this.#transports.size, pools, cursors: this.#cursors.size, stats: this.#stats.size };
  }

  /** The round-robin cursor of an upstream whose backend list has `signature`. */
  roundRobinState(upstream: string, signature: string, size: number): { key: string; state: RoundRobinState } {
    const key = `${upstream}\u0000${signature}`;
    let state = this.#cursors.get(key);
    if (state === undefined) {
      state = createRoundRobinState(size);
      this.#cursors.set(key, state);
    }
    return { key, state };
  }

  /** The live stats of a backend (balancing reads, forwarding writes), created on first use. */
  backendStats(upstream: string, address: string): BackendStats {
    const key = backendStatsKey(upstream, address);
    let stats = this.#stats.get(key);
    if (stats === undefined) {
      stats = new BackendStats();
      this.#stats.set(key, stats);
    }
    return stats;
  }

  /**
   * Keeps exactly what `generation` (the serving one) and `candidate` (a candidate held beside
   * it, in-node canary) name; closes dropped transports in the background (in-flight requests
   * on them finish first). The promise resolves when they are closed. Process-wide settings
   * and DNS refresh follow the serving generation only.
   */
  retain(generation: Generation, candidate: Generation | null = null): Promise<void> {
    this.configure(generation);
    const held = candidate === null ? [generation] : [generation, candidate];
    const closing: Promise<void>[] = [];
    for (const [key, transport] of this.#transports) {
      if (held.some((g) => g.stateKeys.transports.has(key))) continue;
      this.#transports.delete(key);
      closing.push(transport.close().catch(() => undefined));
    }
    for (const key of this.#cursors.keys()) {
      if (!held.some((g) => g.stateKeys.cursors.has(key))) this.#cursors.delete(key);
    }
    const named = new Set<string>();
    const upstreams = new Set<string>();
    for (const g of held) {
      for (const [name, upstream] of g.upstreams) {
        upstreams.add(name);
        for (const b of upstream.backends) named.add(backendStatsKey(name, b.address));
      }
    }
    for (const key of this.#stats.keys()) if (!named.has(key)) this.#stats.delete(key);
    this.breakers.retain(named);
    this.budgets.retain(upstreams);
    this.inflight.retain(upstreams, named);
    // A backend named by both keeps the serving generation's health spec.
    const health = candidate === null ? generation.stateKeys.health : new Map([...candidate.stateKeys.health, ...generation.stateKeys.health]);
    closing.push(this.health.reconcile(health));
    const perf = generation.config.performance;
    this.dns.configure(perf.backend_dns_refresh_enabled, perf.backend_dns_refresh_interval_ms, perf.backend_dns_refresh_enabled ? backendAddresses(generation) : []);
    return Promise.all(closing).then(() => undefined);
  }

  /**
   * The process-wide settings of `generation` (global in-flight cap, global retry budget, rate
   * rules). retain() calls it when a generation is served; tests that serve a compiled
   * generation without retain() may call it directly. Per-upstream and per-backend entries are
   * resolved by compile/.
   */
  configure(generation: Generation): void {
    const config = generation.config;
    this.inflight.global.limit = config.performance.global_inflight_limit;
    this.budgets.enabled = config.resilience.retry_budget.enabled;
    this.budgets.global.ratioPercent = config.resilience.retry_budget.ratio_percent;
    this.rateLimits.reconfigure(config.resilience.scoped_rate_limits);
    this.routeQueue.reconfigure(config.resilience.route_queue);
    this.admission.reconfigure(config.resilience.adaptive_admission, config.performance.global_inflight_limit);
    this.brownout.reconfigure(config.resilience.brownout);
  }

  /** Closes every transport (shutdown, after draining). */
  async close(): Promise<void> {
    this.#closed = true;
    this.dns.close();
    const all = [...this.#transports.values()];
    this.#transports.clear();
    this.#cursors.clear();
    this.#stats.clear();
    this.breakers.clear();
    await Promise.all([this.health.close(), ...all.map((t) => t.close().catch(() => undefined))]);
  }
}

function* backendAddresses(generation: Generation): Iterable<string> {
  for (const upstream of generation.upstreams.values()) for (const b of upstream.backends) yield b.address;
}
