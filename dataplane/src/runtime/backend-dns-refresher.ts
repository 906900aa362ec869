/**
 * Backend DNS refresh (`performance.backend_dns_refresh_enabled` /
 * `backend_dns_refresh_interval_ms`): the host names of the served generation's backends are
 * re-resolved every interval; when a name's address set changes, `onChange(host)` re-creates
 * the pools (and probe pools) of the backends with that host name — only those; every other
 * pool and its connections stay. New connections resolve the name again when they connect
 * (node:net's lookup), so they reach the new addresses; requests in flight on the old pool
 * finish on it.
 *
 * Contract:
 *   - One timer per process (a chained, unref'd timeout: a round starts `intervalMs` after the
 *     previous one ended, so rounds never overlap), never per request or per backend.
 *   - One resolution in flight per name, at most MAX_CONCURRENT_LOOKUPS at once (getaddrinfo
 *     runs on libuv's 4-thread pool, shared with file I/O), each bounded by `timeoutMs` (a
 *     lookup that times out is a failure; the name is not asked again until it settled).
 *   - The first successful answer for a name is its baseline (pools created before it already
 *     resolved the name themselves): no re-creation. A later answer with a different set
 *     (order ignored) → `changed` and onChange. A failure (error, empty answer or timeout)
 *     keeps the last good set and changes nothing.
 *   - `report` gets every result (metrics count them) and says whether the name's state
 *     changed (ok ↔ failing), so logs can be written once per change of state, not per round.
 *   - IP literals are never resolved. A name no generation names any more is forgotten.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export const MAX_CONCURRENT_LOOKUPS = 4;
/** Upper bound of one lookup; also never more than the interval. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 5_000;

/** Addresses of `host` (any order); rejects or answers [] on failure. */
export type DnsResolver = (host: string) => Promise<readonly string[]>;

export type DnsRefreshResult = 'unchanged' | 'changed' | 'failed';

export interface DnsRefreshReport {
  readonly host: string;
  readonly result: DnsRefreshResult;
  /** The set now in use (the last good one after a failure; [] before any success). */
  readonly addresses: readonly string[];
  /** On `failed`: the error code (e.g. ENOTFOUND), `timeout` or `empty`. */
  readonly error: string | null;
  /** True when this result moved the name between ok and failing (or is its first change). */
  readonly stateChanged: boolean;
}

export interface DnsRefresherOptions {
  readonly resolve?: DnsResolver;
  readonly onChange: (host: string) => void;
  readonly report?: (report: DnsRefreshReport) => void;
  readonly timeoutMs?: number;
}

/** node's getaddrinfo, as new connections use it. */
export const systemResolver: DnsResolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

interface NameState {
  /** Sorted, joined: the last good set; null before the first success. */
  key: string | null;
  addresses: readonly string[];
  failing: boolean;
  inFlight: boolean;
}

/** The host of a canonical backend address (`scheme://host:port`, IPv6 in brackets). */
export function backendHost(address: string): string {
  const start = address.indexOf('://') + 3;
  if (address[start] === '[') return address.slice(start + 1, address.indexOf(']', start));
  const colon = address.lastIndexOf(':');
  return address.slice(start, colon > start ? colon : address.length);
}

export class BackendDnsRefresher {
  readonly #resolve: DnsResolver;
  readonly #onChange: (host: string) => void;
  readonly #report: (report: DnsRefreshReport) => void;
  readonly #timeoutMs: number;
  readonly #names = new Map<string, NameState>();
  #intervalMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #closed = false;

  constructor(options: DnsRefresherOptions) {
    this.#resolve = options.resolve ?? systemResolver;
    this.#onChange = options.onChange;
    this.#report = options.report ?? (() => undefined);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  }

  /**
   * Follows the served generation: `enabled` false stops the timer and forgets every name;
   * else the names to refresh are the non-IP hosts of `addresses` and the timer runs every
   * `intervalMs` (a new interval applies from the next round). New names are looked up at once
   * (their baseline), unless a round is running (then at the next one).
   */
  configure(enabled: boolean, intervalMs: number, addresses: Iterable<string>): void {
    if (this.#closed) return;
    if (!enabled) {
      this.#stopTimer();
      this.#names.clear();
      return;
    }
    const hosts = new Set<string>();
    for (const address of addresses) {
      const host = backendHost(address);
      if (isIP(host) === 0) hosts.add(host);
    }
    for (const host of this.#names.keys()) if (!hosts.has(host)) this.#names.delete(host);
    let added = false;
    for (const host of hosts) {
      if (this.#names.has(host)) continue;
      this.#names.set(host, { key: null, addresses: [], failing: false, inFlight: false });
      added = true;
    }
    const restart = this.#intervalMs !== intervalMs;
    this.#intervalMs = intervalMs;
    if (restart) this.#stopTimer();
    // A new name's first answer is its baseline: taken at once, close to when the new pools
    // first connect. Taken one interval later, a change inside that first interval would
    // become the baseline itself and the pools would keep connections to the old address.
    if (added && this.#round === null) {
      this.#stopTimer();
      void this.#runRound();
    } else if (this.#timer === null && this.#round === null) this.#schedule();
  }

  /** Names being refreshed (tests, diagnostics). */
  hosts(): string[] {
    return [...this.#names.keys()];
  }

  /** Runs one round now (tests); resolves when every lookup of it settled or timed out. */
  refreshNow(): Promise<void> {
    if (this.#round !== null) return this.#round;
    this.#stopTimer();
    return this.#runRound();
  }

  close(): void {
    this.#closed = true;
    this.#stopTimer();
    this.#names.clear();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#closed || this.#names.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#runRound();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  #runRound(): Promise<void> {
    const round = (async () => {
      const queue = [...this.#names.entries()].filter(([, s]) => !s.inFlight);
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) await this.#refresh(next[0], next[1]);
      };
      await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_LOOKUPS, queue.length) }, worker));
    })();
    this.#round = round;
    return round.finally(() => {
      this.#round = null;
      if (!this.#closed && this.#names.size > 0 && this.#timer === null) this.#schedule();
    });
  }

  async #refresh(host: string, state: NameState): Promise<void> {
    state.inFlight = true;
    const lookup = this.#resolve(host).then(
      (addresses) => ({ addresses, error: addresses.length === 0 ? 'empty' : null }),
      (err: unknown) => ({ addresses: [] as readonly string[], error: errorCode(err) }),
    );
    void lookup.finally(() => {
      state.inFlight = false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ addresses: readonly string[]; error: string }>((resolve) => {
      timer = setTimeout(() => resolve({ addresses: [], error: 'timeout' }), Math.min(this.#timeoutMs, Math.max(this.#intervalMs, 1)));
    });
    const answer = await Promise.race([lookup, timeout]);
    clearTimeout(timer);
    if (this.#closed || this.#names.get(host) !== state) return;
    if (answer.error !== null) {
      const stateChanged = !state.failing;
      state.failing = true;
      this.#report({ host, result: 'failed', addresses: state.addresses, error: answer.error, stateChanged });
      return;
    }
    const sorted = [...new Set(answer.addresses)].sort();
    const key = sorted.join(',');
    const recovered = state.failing;
    state.failing = false;
    const changed = state.key !== null && state.key !== key;
    state.key = key;
    state.addresses = sorted;
    if (changed) this.#onChange(host);
    this.#report({ host, result: changed ? 'changed' : 'unchanged', addresses: sorted, error: null, stateChanged: recovered || changed });
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}
