/**
 * relayBytes: pipes two established connections into each other until the tunnel is over,
 * with backpressure both ways (node's pipe: a full writer pauses the other side's reads).
 *
 * Ends, and resolves once both sockets are closed, when:
 *  - either side closes: the other side is ended after what is queued for it was written
 *    (a WebSocket close frame followed by the origin's FIN reaches the client whole), then
 *    destroyed (closeAfterFlush); a FIN alone (half-close) is passed on as a FIN;
 *  - either side errors or closes abruptly: both are destroyed;
 *  - no byte moved in either direction for `idleMs` (`performance.tunnel_idle_timeout_ms`):
 *    both are destroyed. Each end carries node's own inactivity timer (net.Socket and
 *    Http2Stream: reset by reads and writes), so a byte in either direction re-arms both: no
 *    timer of ours per chunk;
 *  - `signal` aborts (the caller's stop): both are destroyed.
 * Never rejects. Costs per tunnel: one 'data' listener per side (byte counts), two socket
 * timeouts, a handful of closures.
 */
import type { CancelSignal } from '../http/cancellation.ts';
import type { TunnelEnd } from '../http/exchange.ts';

export type RelayEnd = 'client_closed' | 'upstream_closed' | 'client_error' | 'upstream_error' | 'idle_timeout' | 'stopped';

export interface RelayResult {
  readonly end: RelayEnd;
  /** Bytes client → upstream and upstream → client, as read from each side. */
  readonly bytesFromClient: number;
  readonly bytesFromUpstream: number;
}

export function relayBytes(client: TunnelEnd, upstream: TunnelEnd, idleMs: number, signal: CancelSignal): Promise<RelayResult> {
  return new Promise((resolve) => {
    let end: RelayEnd | null = null;
    let fromClient = 0;
    let fromUpstream = 0;
    let open = 2;
    const finish = (why: RelayEnd, destroy: boolean): void => {
      end ??= why;
      if (destroy) {
        client.destroy();
        upstream.destroy();
      }
    };
    const onClosed = (): void => {
      if (--open > 0) return;
      signal.removeEventListener('abort', onAbort);
      resolve({ end: end ?? 'stopped', bytesFromClient: fromClient, bytesFromUpstream: fromUpstream });
    };
    const onAbort = (): void => finish('stopped', true);
    const idle = (): void => finish('idle_timeout', true);

    client.on('data', (chunk: Buffer) => {
      fromClient += chunk.byteLength;
    });
    upstream.on('data', (chunk: Buffer) => {
      fromUpstream += chunk.byteLength;
    });
    client.on('error', () => finish('client_error', true));
    upstream.on('error', () => finish('upstream_error', true));
    client.once('end', () => finish('client_closed', false));
    upstream.once('end', () => finish('upstream_closed', false));
    client.once('close', () => {
      finish('client_closed', false);
      closeAfterFlush(upstream);
      onClosed();
    });
    upstream.once('close', () => {
      finish('upstream_closed', false);
      closeAfterFlush(client);
      onClosed();
    });
    client.setTimeout(idleMs, idle);
    upstream.setTimeout(idleMs, idle);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

/**
 * The other side of a closed one: ended (pipe may have done it on FIN) so what is queued for it
 * is still written, then destroyed once that is flushed — its peer may keep its own side open
 * (an HTTP/2 stream stays half-open until the client ends it too), and nothing it sends can go
 * anywhere now.
 */
function closeAfterFlush(end: TunnelEnd): void {
  if (end.destroyed) return;
  if (end.writableFinished) {
    end.destroy();
    return;
  }
  end.once('finish', () => end.destroy());
  end.end();
}
