/**
 * Admission of new client connections, shared by every listener of the process (TCP and
 * QUIC alike): at most `maxConnectionsPerIp` open from one address, `maxActiveConnections`
 * open in total, and new ones at `newConnectionsPerSec` (token bucket of
 * `newConnectionsBurst`). Checks run in that order; a refused connection spends no token.
 * An admitted connection holds its place until its `release()` (idempotent).
 */
import { type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './connection-limits.ts';
import { TokenBucket } from './token-bucket.ts';

export type RejectReason = 'max_connections_per_ip' | 'max_active_connections' | 'rate_limited';

export type Admission = { readonly ok: true; readonly release: () => void } | { readonly ok: false; readonly reason: RejectReason };

export class ConnectionAdmission {
  #limits: ConnectionLimits;
  readonly #bucket: TokenBucket;
  readonly #perIp = new Map<string, number>();
  #active = 0;
  readonly #now: () => number;

  constructor(limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
    this.#bucket = new TokenBucket(limits.newConnectionsPerSec, limits.newConnectionsBurst, now());
  }

  get limits(): ConnectionLimits {
    return this.#limits;
  }

  /** New limits for connections arriving from now on; open ones keep their places. */
  setLimits(limits: ConnectionLimits): void {
    this.#limits = limits;
    this.#bucket.reconfigure(limits.newConnectionsPerSec, limits.newConnectionsBurst, this.#now());
  }

  get active(): number {
    return this.#active;
  }

  activeFrom(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /** `ip` is the peer address as the socket reports it (unknown peers share the key ''). */
  admit(ip: string): Admission {
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxConnectionsPerIp) return { ok: false, reason: 'max_connections_per_ip' };
    if (this.#active >= this.#limits.maxActiveConnections) return { ok: false, reason: 'max_active_connections' };
    if (!this.#bucket.take(this.#now())) return { ok: false, reason: 'rate_limited' };
    this.#perIp.set(ip, fromIp + 1);
    this.#active++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
      },
    };
  }
}
