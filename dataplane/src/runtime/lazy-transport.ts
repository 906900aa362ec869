/**
 * A BackendTransport that creates its real transport (an undici Pool) on the first forward().
 *
 * Why: an undici Pool costs ~20 KB of heap and ~30 µs to create (its request queue alone is a
 * 2048-slot array), so a generation naming 200 000 backends cost ~4 GB and seconds of blocked
 * event loop at compile time although most backends of such a config never see a request.
 * Deferring the pool makes a compiled backend cost a few hundred bytes; the pool is paid by
 * the backends that carry traffic, when they first do.
 *
 * `protocol` is known from the address scheme without creating anything (https → h2).
 * close() before any forward() creates nothing; forward() after close() is refused by the
 * closed pool exactly as it would be without the wrapper.
 */
import type { TransportSettings } from '../forwarding/transport-settings.ts';
import type { BackendTransport, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';

export type TransportFactory = (address: string, settings: TransportSettings) => BackendTransport;

/** A class, not a closure bundle: one small object per backend (no per-backend closures). */
export class LazyTransport implements BackendTransport {
  readonly protocol: 'h1' | 'h2';
  /** The backend address (`scheme://host:port`). */
  readonly address: string;
  readonly #settings: TransportSettings;
  readonly #create: TransportFactory;
  #real: BackendTransport | null = null;
  #closed = false;

  constructor(address: string, settings: TransportSettings, create: TransportFactory) {
    this.protocol = address.startsWith('https://') ? 'h2' : 'h1';
    this.address = address;
    this.#settings = settings;
    this.#create = create;
  }

  /** True once the real transport exists. */
  get created(): boolean {
    return this.#real !== null;
  }

  forward(request: UpstreamRequest): Promise<UpstreamResponse> {
    if (this.#real === null) {
      this.#real = this.#create(this.address, this.#settings);
      if (this.#closed) void this.#real.close().catch(() => undefined);
    }
    return this.#real.forward(request);
  }

  /**
   * Drops the real transport (backend DNS refresh): it closes once its in-flight requests
   * finished, and the next forward() creates a fresh one, whose connections resolve the
   * backend's name again. A no-op before the first forward() or after close().
   */
  reset(): Promise<void> {
    const real = this.#real;
    if (real === null || this.#closed) return Promise.resolve();
    this.#real = null;
    return real.close();
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#real === null ? Promise.resolve() : this.#real.close();
  }
}
