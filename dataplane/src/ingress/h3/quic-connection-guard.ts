/**
 * Connection-level limits on the QUIC side of a listener, fed by the server's `session` and
 * `stream` events (HTTP/2 adapter sessions are the TCP guard's and are ignored here):
 *
 * - Admission when the library announces the session (before the handshake completes):
 *   per-IP cap, global cap and new-connection rate, shared with TCP. Refused → the
 *   connection is closed at once with H3_EXCESSIVE_LOAD.
 * - A connection that opens no request stream within `clientHeaderTimeoutMs` of its start
 *   (handshake included), or has none open for `clientIdleTimeoutMs` after the last one
 *   closed, is closed with H3_NO_ERROR.
 *
 * - Drain (`drain()`, at shutdown, when the listener is replaced or its server retired by a
 *   certificate swap): every connection is closed with H3_NO_ERROR as soon as it has no
 *   request stream open (at once when idle after a request); one that has not opened its
 *   first request yet — still in its handshake when the drain starts, or arriving during it —
 *   is served the same way (closed once its first requests are done, or by the no-stream
 *   timeout): closing it before its first request would fail a client that raced the signal
 *   (measured: CONNECTION_CLOSE APPLICATION_ERROR, or its first request "rejected by GOAWAY"). The library's session close
 *   sends an HTTP/3 GOAWAY and then CONNECTION_CLOSE about 30 ms later: 0.9.0 has no way to
 *   send a GOAWAY and keep the connection open for its in-flight streams, so a connection with
 *   requests running gets no GOAWAY until they are done (its new streams are still served).
 *
 * What the library does not let us do (0.9.0): refuse before the handshake work (no accept
 * hook: `session` comes after the Initial packet was processed), change `maxConnections` or
 * `maxIdleTimeoutMs` without reopening the socket (fixed at creation), or bound the header
 * block size (see docs/contract-changes.md).
 */
import type { Http3ServerSession, ServerHttp3Stream } from '@currentspace/http3';
import type { GuardContext } from '../limits/guard-context.ts';
import { connectionHandleOf } from './library-internals.ts';

/** HTTP/3 application error codes (RFC 9114 §8.1). */
const H3_NO_ERROR = 0x100;
const H3_EXCESSIVE_LOAD = 0x107;

interface Tracked {
  open: number;
  /** True once it opened a request stream (the drain spares connections before their first). */
  served: boolean;
  timer: NodeJS.Timeout | null;
  readonly session: Http3ServerSession;
}

export interface QuicGuard {
  /** Call from the server's `session` event. */
  session(session: Http3ServerSession): void;
  /** Call from the server's `stream` event (before the stream is handled). */
  stream(stream: ServerHttp3Stream): void;
  /** Starts the drain (see above); idempotent. */
  drain(): void;
  /**
   * The end of the drain: closes every connection still open (GOAWAY + CONNECTION_CLOSE
   * H3_NO_ERROR; streams still running fail with "session closed", so their exchanges end
   * as client aborts) and waits for the drain's own closes to complete. Resolves once the
   * library reported every close, or after `timeoutMs`. This must precede the server's
   * close(): that one drops its streams without an event (leaving their exchanges and the
   * upstream requests under them running) and ends connections with "server shutdown".
   */
  cut(timeoutMs: number): Promise<void>;
}

export function createQuicGuard(ctx: GuardContext): QuicGuard {
  const byHandle = new Map<number, Tracked>();
  let draining = false;
  const closeForDrain = (t: Tracked): void => {
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    void t.session.close(H3_NO_ERROR).catch(() => undefined);
  };

  const arm = (t: Tracked, ms: number, reason: 'no_stream_timeout' | 'idle_timeout'): void => {
    if (t.timer) clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      t.timer = null;
      if (t.open > 0) return;
      ctx.events.closed(ctx.label(), reason);
      void t.session.close(H3_NO_ERROR).catch(() => undefined);
    }, ms);
    t.timer.unref();
  };

  return {
    session(session) {
      if (session.alpnProtocol === 'h2') return;
      const handle = connectionHandleOf(session);
      const admitted = ctx.admission.admit(session.remoteAddress);
      if (!admitted.ok) {
        ctx.events.rejected(ctx.label(), admitted.reason);
        void session.close(H3_EXCESSIVE_LOAD).catch(() => undefined);
        return;
      }
      const t: Tracked = { open: 0, served: false, timer: null, session };
      if (handle !== null) byHandle.set(handle, t);
      arm(t, ctx.admission.limits.clientHeaderTimeoutMs, 'no_stream_timeout');
      session.once('close', () => {
        admitted.release();
        if (t.timer) clearTimeout(t.timer);
        t.timer = null;
        if (handle !== null && byHandle.get(handle) === t) byHandle.delete(handle);
      });
    },
    stream(stream) {
      const handle = connectionHandleOf(stream);
      const t = handle === null ? undefined : byHandle.get(handle);
      if (!t) return;
      t.open++;
      t.served = true;
      if (t.timer) clearTimeout(t.timer);
      t.timer = null;
      const idleMs = ctx.admission.limits.clientIdleTimeoutMs;
      stream.once('close', () => {
        t.open--;
        if (t.open !== 0 || t.session.closed) return;
        if (draining) closeForDrain(t);
        else arm(t, idleMs, 'idle_timeout');
      });
    },
    drain() {
      if (draining) return;
      draining = true;
      for (const t of byHandle.values()) if (t.open === 0 && t.served) closeForDrain(t);
    },
    async cut(timeoutMs) {
      const open = [...byHandle.values()].map((t) => t.session).filter((session) => !session.closed);
      if (open.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      // Sessions the drain is already closing answer close() at once: wait for their event.
      const closed = open.map((session) => new Promise<void>((resolve) => session.once('close', () => resolve())));
      for (const session of open) void session.close(H3_NO_ERROR).catch(() => undefined);
      await Promise.race([Promise.all(closed), bound]);
      clearTimeout(timer);
    },
  };
}
