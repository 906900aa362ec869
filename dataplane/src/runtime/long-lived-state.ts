/**
 * State that survives generation swaps, keyed by stable identity (upstream name + backend
 * address): one transport (undici Pool) per backend and transport settings, round-robin
 * cursors per upstream and backend list. compile/ asks for entries (creating them when new);
 * `retain(generation)` drops and closes what the generation no longer names. Health, breaker
 * and EWMA state will live here too, under the same keys.
 */
import type { RoundRobinState } from '../balancing/round-robin.ts';
import { createRoundRobinState } from '../balancing/round-robin.ts';
import { createUndiciTransport } from '../forwarding/undici-transport.ts';
import type { TransportSettings } from '../forwarding/transport-settings.ts';
import { settingsKey } from '../forwarding/transport-settings.ts';
import type { BackendTransport } from '../http/backend-transport.ts';
import type { Generation } from './generation.ts';

export type TransportFactory = (address: string, settings: TransportSettings) => BackendTransport;

export class LongLivedState {
  readonly #createTransport: TransportFactory;
  readonly #transports = new Map<string, BackendTransport>();
  readonly #cursors = new Map<string, RoundRobinState>();
  #closed = false;

  /** `createTransport` defaults to undici; tests may inject a fake. */
  constructor(options?: { readonly createTransport?: TransportFactory }) {
    this.#createTransport = options?.createTransport ?? createUndiciTransport;
  }

  /** The transport for a backend, created on first use. Settings are part of the identity. */
  transport(upstream: string, address: string, settings: TransportSettings): { key: string; transport: BackendTransport } {
    if (this.#closed) throw new Error('LongLivedState is closed');
    const key = `${upstream}\u0000${address}\u0000${settingsKey(settings)}`;
    let transport = this.#transports.get(key);
    if (transport === undefined) {
      transport = this.#createTransport(address, settings);
      this.#transports.set(key, transport);
    }
    return { key, transport };
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

  /**
   * Keeps exactly what `generation` names; closes dropped transports in the background
   * (in-flight requests on them finish first). The promise resolves when they are closed.
   */
  retain(generation: Generation): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, transport] of this.#transports) {
      if (generation.stateKeys.transports.has(key)) continue;
      this.#transports.delete(key);
      closing.push(transport.close().catch(() => undefined));
    }
    for (const key of this.#cursors.keys()) {
      if (!generation.stateKeys.cursors.has(key)) this.#cursors.delete(key);
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Closes every transport (shutdown, after draining). */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#transports.values()];
    this.#transports.clear();
    this.#cursors.clear();
    await Promise.all(all.map((t) => t.close().catch(() => undefined)));
  }
}
