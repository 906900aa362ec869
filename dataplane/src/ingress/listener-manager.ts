/**
 * Reconciles the open listeners with a generation's `config.listeners`, in two steps around
 * the generation swap:
 *
 * - `prepare(listeners)` (before the swap, all-or-nothing): reads every cert/key file, opens
 *   every new listener, opens the new server of every listener whose default certificate
 *   changes on the same address:port (a certificate swap: its TCP socket stays open, see
 *   serving-listener.ts), and — last, only when everything else succeeded — closes then
 *   reopens listeners whose port must be reused by another address (a changed address on the
 *   same port). On any failure it closes what it opened, undoes the swaps, reopens what it
 *   closed, and returns the issues: the old set keeps serving.
 * - `commit(prepared)` (after the swap): the new set becomes current and the generation's
 *   connection limits (`performance`) apply to new connections on every listener; swapped
 *   listeners serve new connections with the new certificate while their old server drains
 *   (up to the drain timeout); listeners no longer named close once their in-flight requests
 *   finish (up to the drain timeout).
 * - `abort(prepared)`: undo a successful prepare whose generation was not swapped in.
 * - SNI certificates and client-certificate settings of a listener that stays open are
 *   applied to its TCP side at commit, in place (no socket closed); a new *default*
 *   certificate (the one HTTP/3 serves) needs a new QUIC server, done as a swap (no socket
 *   closed either: the TCP socket is kept, the new UDP socket joins the port's SO_REUSEPORT
 *   group before the old one leaves).
 * - Certificate files are polled (certificate-watcher.ts, every `certificatePollMs`): a
 *   change re-runs prepare/commit with the last committed listeners, so new handshakes get
 *   the new files within about one poll, and files that fail their checks are not loaded
 *   (the old material keeps serving; a warning names the issue).
 *
 * Calls must be serialized by the caller (the serving applier does).
 */
import type { ConfigIssue, Listener, Performance } from '@spooky/config';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CertificateWatcher } from './certificate-watcher.ts';
import { ConnectionAdmission } from './limits/connection-admission.ts';
import { type ConnectionLimits, connectionLimitsOf } from './limits/connection-limits.ts';
import { createConnectionMetrics, NO_CONNECTION_EVENTS } from './limits/connection-metrics.ts';
import { type ListenerIssue, openIssue } from './listener-issues.ts';
import { planListeners } from './listener-plan.ts';
import { type ListenerSpec, sameTcpTls } from './listener-spec.ts';
import { readListenerSpec } from './read-listener-spec.ts';
import { releaseQuicSockets } from './release-quic-sockets.ts';
import { type CertificateSwap, type ExchangeHandler, type ListenerGuards, openServingListener, type ServingListener } from './serving-listener.ts';

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
  /** Kept listeners whose default certificate changes: committed or aborted with the set. */
  readonly swaps: readonly CertificateSwap[];
  /** Kept listeners whose TCP TLS material (SNI, client auth) changes at commit. */
  readonly tlsUpdates: ReadonlyArray<readonly [ServingListener, ListenerSpec]>;
  /** The listeners config this set serves (re-read on certificate file changes). */
  readonly listeners: readonly Listener[];
}

export type PrepareOutcome =
  | { readonly ok: true; readonly prepared: PreparedListeners }
  | { readonly ok: false; readonly retryable: boolean; readonly issues: readonly ConfigIssue[] };

export interface ListenerManagerOptions {
  readonly handler: ExchangeHandler;
  readonly logger: Logger;
  /** How long a closing listener lets in-flight requests run. Default 5000 ms. */
  readonly drainMs?: number;
  /** Drain for a listener closed only to reopen its port on another address (a gap in service). Default 1000 ms. */
  readonly replaceDrainMs?: number;
  /** Where spooky_connections_{rejected,closed}_total are registered; none → not counted. */
  readonly registry?: Registry;
  /** How often certificate, key and CA files are stat'ed for changes. Default 1000 ms; 0 = never. */
  readonly certificatePollMs?: number;
}

/** What a certificate reload did. */
export type ReloadOutcome =
  | { readonly status: 'reloaded' | 'unchanged' | 'busy' }
  | { readonly status: 'rejected'; readonly issues: readonly ConfigIssue[] };

export class ListenerManager {
  readonly #handler: ExchangeHandler;
  readonly #logger: Logger;
  readonly #drainMs: number;
  readonly #replaceDrainMs: number;
  #current: readonly ServingListener[] = [];
  readonly #closing = new Set<Promise<void>>();
  /** One admission for every listener: the connection caps and rate are per process. */
  readonly #guards: ListenerGuards;
  /** Prepares started and not yet committed or aborted. */
  #pending = 0;
  #reloading: Promise<ReloadOutcome> | null = null;
  #listeners: readonly Listener[] | null = null;
  readonly #watcher: CertificateWatcher | null;

  constructor(options: ListenerManagerOptions) {
    this.#guards = {
      admission: new ConnectionAdmission(),
      events: options.registry ? createConnectionMetrics(options.registry) : NO_CONNECTION_EVENTS,
    };
    this.#handler = options.handler;
    this.#logger = options.logger;
    this.#drainMs = options.drainMs ?? 5000;
    this.#replaceDrainMs = options.replaceDrainMs ?? 1000;
    const pollMs = options.certificatePollMs ?? 1000;
    this.#watcher =
      pollMs > 0
        ? new CertificateWatcher({
            intervalMs: pollMs,
            loaded: () => new Map(this.#current.flatMap((l) => [...l.spec.fileSignatures])),
            onChange: async () => {
              const outcome = await this.reloadCertificates();
              return outcome.status === 'busy' ? 'busy' : outcome.status === 'rejected' ? 'rejected' : 'applied';
            },
          })
        : null;
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
    while (this.#reloading) await this.#reloading;
    this.#pending++;
    const outcome = await this.#prepare(listeners, performance);
    if (!outcome.ok) this.#pending--;
    return outcome;
  }

  /**
   * Re-reads every file of the committed listeners and applies what changed (see the file
   * comment). 'busy' while a generation is being prepared; never overlaps a prepare.
   */
  async reloadCertificates(): Promise<ReloadOutcome> {
    const listeners = this.#listeners;
    if (this.#pending > 0 || this.#reloading || listeners === null) return { status: 'busy' };
    const run = (async (): Promise<ReloadOutcome> => {
      const outcome = await this.#prepare(listeners, undefined);
      if (!outcome.ok) {
        this.#logger.warn({ issues: outcome.issues }, 'changed certificate files not loaded; the previous ones keep serving');
        return { status: 'rejected', issues: outcome.issues };
      }
      const p = outcome.prepared;
      this.#install(p);
      if (p.opened.length === 0 && p.swaps.length === 0 && p.tlsUpdates.length === 0) return { status: 'unchanged' };
      this.#logger.info({ swapped: p.swaps.length, replaced: p.replaced.length, updated: p.tlsUpdates.length }, 'certificates reloaded');
      return { status: 'reloaded' };
    })();
    this.#reloading = run;
    try {
      return await run;
    } finally {
      this.#reloading = null;
    }
  }

  async #prepare(listeners: readonly Listener[], performance: Performance | undefined): Promise<PrepareOutcome> {
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
    const tlsUpdates: Array<readonly [ServingListener, ListenerSpec]> = [];
    for (const [di, ci] of plan.keep) {
      const kept = current[ci] as ServingListener;
      next[di] = kept;
      const spec = specs[di] as ListenerSpec;
      if (!sameTcpTls(kept.spec, spec)) tlsUpdates.push([kept, spec]);
    }

    const opened: ServingListener[] = [];
    const swaps: CertificateSwap[] = [];
    const failures: ListenerIssue[] = [];
    const undo = async (): Promise<void> => {
      await Promise.all([...opened.map((l) => l.close(0)), ...swaps.map((s) => s.abort())]);
    };
    await Promise.all([
      ...plan.openFirst.map(async (di) => {
        const spec = specs[di] as ListenerSpec;
        try {
          const l = await openServingListener(spec, this.#handler, this.#logger, this.#guards);
          opened.push(l);
          next[di] = l;
        } catch (err) {
          failures.push(openIssue(di, spec.address, spec.port, err, spec.keyPath));
        }
      }),
      ...plan.swap.map(async ([di, ci]) => {
        const kept = current[ci] as ServingListener;
        const spec = specs[di] as ListenerSpec;
        try {
          swaps.push(await kept.prepareSwap(spec, this.#drainMs));
          next[di] = kept;
        } catch (err) {
          failures.push(openIssue(di, spec.address, spec.port, err, spec.keyPath));
        }
      }),
    ]);
    if (failures.length > 0) {
      await undo();
      return fail(failures);
    }

    const replaced = plan.closeForReplace.map((ci) => current[ci] as ServingListener);
    if (replaced.length > 0) {
      await Promise.all(replaced.map((l) => l.close(this.#replaceDrainMs)));
      // Before the new servers bind: the closed ones' UDP sockets must leave the port's group.
      releaseQuicSockets();
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
        await undo();
        await this.#restore(replaced);
        return fail(failures);
      }
    }
    const closeAfterSwap = plan.closeAfterSwap.map((ci) => current[ci] as ServingListener);
    return { ok: true, prepared: { next: next as ServingListener[], opened, swaps, replaced, closeAfterSwap, limits, tlsUpdates, listeners } };
  }

  /** Makes the prepared set current; closes listeners no longer named (in the background). */
  commit(prepared: PreparedListeners): void {
    this.#pending = Math.max(0, this.#pending - 1);
    this.#install(prepared);
    this.#watcher?.start();
  }

  #install(prepared: PreparedListeners): void {
    this.#current = prepared.next;
    this.#listeners = prepared.listeners;
    for (const swap of prepared.swaps) swap.commit();
    for (const [l, spec] of prepared.tlsUpdates) {
      try {
        l.updateTls(spec);
      } catch (err) {
        // Checked in prepare; node refusing it now leaves the previous material serving.
        this.#logger.error({ address: spec.address, port: l.boundPort, code: (err as { code?: unknown }).code }, 'TLS material not applied');
      }
    }
    if (prepared.limits) {
      this.#guards.admission.setLimits(prepared.limits);
      for (const l of this.#current) l.applyLimits();
    }
    for (const l of prepared.closeAfterSwap) this.#track(l.close(this.#drainMs));
  }

  /** Undoes a successful prepare that was not committed. */
  async abort(prepared: PreparedListeners): Promise<void> {
    this.#pending = Math.max(0, this.#pending - 1);
    await Promise.all([...prepared.opened.map((l) => l.close(0)), ...prepared.swaps.map((s) => s.abort())]);
    await this.#restore(prepared.replaced);
  }

  /**
   * Shutdown: drains every listener at once (GOAWAY / `Connection: close`, see
   * serving-listener.ts), lets in-flight requests finish up to drainMs, cuts the rest, closes.
   */
  async closeAll(drainMs: number = this.#drainMs): Promise<void> {
    await this.#watcher?.stop();
    await this.#reloading;
    this.#listeners = null;
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

/**
 * Reads and checks every listener's files (read-listener-spec.ts) before anything is closed:
 * a listener whose address changes on the same port is closed and reopened, and a bad key
 * found only at reopen would leave that port dark until the old listener is restored.
 */
async function readSpecs(listeners: readonly Listener[]): Promise<ReadResult> {
  const results = await Promise.all(listeners.map((l, i) => readListenerSpec(l, i)));
  const failures = results.flatMap((r) => (r.ok ? [] : r.failures));
  if (failures.length > 0) {
    failures.sort((a, b) => a.issue.pointer.localeCompare(b.issue.pointer));
    return { ok: false, failures };
  }
  return { ok: true, specs: results.map((r) => (r as { spec: ListenerSpec }).spec) };
}

function fail(failures: readonly ListenerIssue[]): PrepareOutcome {
  return { ok: false, retryable: failures.every((f) => f.retryable), issues: failures.map((f) => f.issue) };
}
