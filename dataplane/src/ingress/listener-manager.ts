/**
 * Reconciles the open listeners with a generation's `config.listeners`, in two steps around
 * the generation swap:
 *
 * - `prepare(listeners)` (before the swap, all-or-nothing): reads every cert/key file, opens
 *   every new listener, and — last, only when everything else succeeded — closes then reopens
 *   listeners whose port must be reused (a changed certificate on the same address:port, or a
 *   changed address on the same port). On any failure it closes what it opened, reopens what
 *   it closed, and returns the issues: the old set keeps serving.
 * - `commit(prepared)` (after the swap): the new set becomes current and the generation's
 *   connection limits (`performance`) apply to new connections on every listener; listeners
 *   no longer named close once their in-flight requests finish (up to the drain timeout).
 * - `abort(prepared)`: undo a successful prepare whose generation was not swapped in.
 *
 * Calls must be serialized by the caller (the serving applier does).
 */
import { readFile } from 'node:fs/promises';
import { invalidTlsIssue } from './tls-material.ts';
import type { ConfigIssue, Listener, Performance } from '@spooky/config';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConnectionAdmission } from './limits/connection-admission.ts';
import { type ConnectionLimits, connectionLimitsOf } from './limits/connection-limits.ts';
import { createConnectionMetrics, NO_CONNECTION_EVENTS } from './limits/connection-metrics.ts';
import { type ListenerIssue, openIssue, unreadableIssue } from './listener-issues.ts';
import { planListeners } from './listener-plan.ts';
import { type ExchangeHandler, type ListenerGuards, type ListenerSpec, openServingListener, type ServingListener } from './serving-listener.ts';

export interface ListenerInfo {
  readonly address: string;
  readonly port: number;
}

export interface PreparedListeners {
  /** In desired order. */
  readonly next: readonly ServingListener[];
  readonly opened: readonly ServingListener[];
  readonly replaced: readonly ServingListener[];
  readonly closeAfterSwap: readonly ServingListener[];
  /** The generation's connection limits, applied at commit (null: keep the current ones). */
  readonly limits: ConnectionLimits | null;
}

export type PrepareOutcome =
  | { readonly ok: true; readonly prepared: PreparedListeners }
  | { readonly ok: false; readonly retryable: boolean; readonly issues: readonly ConfigIssue[] };

export interface ListenerManagerOptions {
  readonly handler: ExchangeHandler;
  readonly logger: Logger;
  /** How long a closing listener lets in-flight requests run. Default 5000 ms. */
  readonly drainMs?: number;
  /** Drain for a listener closed only to reopen its port (a gap in service). Default 1000 ms. */
  readonly replaceDrainMs?: number;
  /** Where spooky_connections_{rejected,closed}_total are registered; none → not counted. */
  readonly registry?: Registry;
}

export class ListenerManager {
  readonly #handler: ExchangeHandler;
  readonly #logger: Logger;
  readonly #drainMs: number;
  readonly #replaceDrainMs: number;
  #current: readonly ServingListener[] = [];
  readonly #closing = new Set<Promise<void>>();
  /** One admission for every listener: the connection caps and rate are per process. */
  readonly #guards: ListenerGuards;

  constructor(options: ListenerManagerOptions) {
    this.#guards = {
      admission: new ConnectionAdmission(),
      events: options.registry ? createConnectionMetrics(options.registry) : NO_CONNECTION_EVENTS,
    };
    this.#handler = options.handler;
    this.#logger = options.logger;
    this.#drainMs = options.drainMs ?? 5000;
    this.#replaceDrainMs = options.replaceDrainMs ?? 1000;
  }

  /** The listeners serving now, with their bound ports. */
  serving(): ListenerInfo[] {
    return this.#current.map((l) => ({ address: l.spec.address, port: l.boundPort }));
  }

  /** Requests in flight on all current listeners. */
  inflight(): number {
    return this.#current.reduce((n, l) => n + l.inflight.count, 0);
  }

  /** Connections open now on all listeners (TCP and QUIC), as admission counts them. */
  activeConnections(): number {
    return this.#guards.admission.active;
  }

  /** `performance` (the generation's) brings its connection limits, applied at commit. */
  async prepare(listeners: readonly Listener[], performance?: Performance): Promise<PrepareOutcome> {
    const limits = performance ? connectionLimitsOf(performance) : null;
    const read = await readSpecs(listeners);
    if (!read.ok) return fail(read.failures);
    const specs = read.specs;
    const current = this.#current;
    const plan = planListeners(
      current.map((l) => l.spec),
      specs,
    );
    const next: Array<ServingListener | undefined> = specs.map(() => undefined);
    for (const [di, ci] of plan.keep) next[di] = current[ci];

    const opened: ServingListener[] = [];
    const failures: ListenerIssue[] = [];
    await Promise.all(
      plan.openFirst.map(async (di) => {
        const spec = specs[di] as ListenerSpec;
        try {
          const l = await openServingListener(spec, this.#handler, this.#logger, this.#guards);
          opened.push(l);
          next[di] = l;
        } catch (err) {
          failures.push(openIssue(di, spec.address, spec.port, err, spec.keyPath));
        }
      }),
    );
    if (failures.length > 0) {
      await Promise.all(opened.map((l) => l.close(0)));
      return fail(failures);
    }

    const replaced = plan.closeForReplace.map((ci) => current[ci] as ServingListener);
    if (replaced.length > 0) {
      await Promise.all(replaced.map((l) => l.close(this.#replaceDrainMs)));
      for (const di of plan.openAfterClose) {
        const spec = specs[di] as ListenerSpec;
        try {
          const l = await this.#reopen(spec);
          opened.push(l);
          next[di] = l;
        } catch (err) {
          failures.push(openIssue(di, spec.address, spec.port, err, spec.keyPath));
          break;
        }
      }
      if (failures.length > 0) {
        await Promise.all(opened.map((l) => l.close(0)));
        await this.#restore(replaced);
        return fail(failures);
      }
    }
    const closeAfterSwap = plan.closeAfterSwap.map((ci) => current[ci] as ServingListener);
    return { ok: true, prepared: { next: next as ServingListener[], opened, replaced, closeAfterSwap, limits } };
  }

  /** Makes the prepared set current; closes listeners no longer named (in the background). */
  commit(prepared: PreparedListeners): void {
    this.#current = prepared.next;
    if (prepared.limits) {
      this.#guards.admission.setLimits(prepared.limits);
      for (const l of this.#current) l.applyLimits();
    }
    for (const l of prepared.closeAfterSwap) this.#track(l.close(this.#drainMs));
  }

  /** Undoes a successful prepare that was not committed. */
  async abort(prepared: PreparedListeners): Promise<void> {
    await Promise.all(prepared.opened.map((l) => l.close(0)));
    await this.#restore(prepared.replaced);
  }

  /**
   * Shutdown: drains every listener at once (GOAWAY / `Connection: close`, see
   * serving-listener.ts), lets in-flight requests finish up to drainMs, cuts the rest, closes.
   */
  async closeAll(drainMs: number = this.#drainMs): Promise<void> {
    const all = this.#current;
    this.#current = [];
    await Promise.all([...all.map((l) => l.close(drainMs)), ...this.#closing]);
  }

  /** Best effort: reopens listeners closed for a replacement that failed. */
  async #restore(replaced: readonly ServingListener[]): Promise<void> {
    const restored = new Map<ServingListener, ServingListener>();
    for (const old of replaced) {
      try {
        restored.set(old, await this.#reopen({ ...old.spec, port: old.boundPort }));
      } catch (err) {
        this.#logger.error({ address: old.spec.address, port: old.boundPort, err: (err as Error).message }, 'listener could not be restored');
      }
    }
    this.#current = this.#current.flatMap((l) => {
      if (!replaced.includes(l)) return [l];
      const again = restored.get(l);
      return again ? [again] : [];
    });
  }

  /**
   * Opens a listener on a port that was just closed. The library releases its UDP/TCP sockets
   * asynchronously, so an immediate bind can meet EADDRINUSE: retry that (only that) for up to
   * REOPEN_RETRY_MS before giving up.
   */
  async #reopen(spec: ListenerSpec): Promise<ServingListener> {
    const deadline = Date.now() + REOPEN_RETRY_MS;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      try {
        return await openServingListener(spec, this.#handler, this.#logger, this.#guards);
      } catch (err) {
        const inUse = (err as { code?: unknown } | null)?.code === 'EADDRINUSE';
        if (!inUse || Date.now() + delay > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #track(p: Promise<void>): void {
    this.#closing.add(p);
    void p.finally(() => this.#closing.delete(p));
  }
}

/** How long a close-then-reopen on the same port keeps retrying a bind that meets EADDRINUSE. */
const REOPEN_RETRY_MS = 3000;

type ReadResult = { ok: true; specs: ListenerSpec[] } | { ok: false; failures: ListenerIssue[] };

async function readSpecs(listeners: readonly Listener[]): Promise<ReadResult> {
  const failures: ListenerIssue[] = [];
  const specs = await Promise.all(
    listeners.map(async (l, i): Promise<ListenerSpec | null> => {
      const [cert, key] = await Promise.all([
        readFile(l.tls.cert).catch((err: unknown) => {
          failures.push(unreadableIssue(i, 'cert', l.tls.cert, err));
          return null;
        }),
        readFile(l.tls.key).catch((err: unknown) => {
          failures.push(unreadableIssue(i, 'key', l.tls.key, err));
          return null;
        }),
      ]);
      if (!cert || !key) return null;
      // Check the PEM material here, before anything is closed: a listener whose certificate
      // changes on the same port is closed and reopened, and a bad key found only at reopen
      // would leave that port dark until the old listener is restored.
      const invalid = invalidTlsIssue(i, cert, key);
      if (invalid) {
        failures.push(invalid);
        return null;
      }
      return { address: l.address, port: l.port, certPath: l.tls.cert, keyPath: l.tls.key, cert, key };
    }),
  );
  if (failures.length > 0) {
    failures.sort((a, b) => a.issue.pointer.localeCompare(b.issue.pointer));
    return { ok: false, failures };
  }
  return { ok: true, specs: specs as ListenerSpec[] };
}

function fail(failures: readonly ListenerIssue[]): PrepareOutcome {
  return { ok: false, retryable: failures.every((f) => f.retryable), issues: failures.map((f) => f.issue) };
}
