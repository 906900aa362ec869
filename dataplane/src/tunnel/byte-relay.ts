/**
 * relayBytes: pipes two established connections into each other until the tunnel is over,
 * with backpressure both ways (node's pipe: a full writer pauses the other side's reads).
 *
 * Ends, and resolves once both sockets are closed, when:
 *  - either side ends (FIN): the other side is ended after what is queued for it was written
 *    (a WebSocket close frame followed by the origin's FIN reaches the client whole); a side
 *    that then stays open is closed by the idle bound;
 *  - either side errors or closes abruptly: both are destroyed;
 *  - no byte moved in either direction for `idleMs` (`performance.tunnel_idle_timeout_ms`):
 *    both are destroyed. Each socket carries node's own inactivity timer (reset by reads and
 *    writes), so a byte in either direction re-arms both: no timer of ours per chunk;
 *  - `signal` aborts (the caller's stop): both are destroyed.
 * Never rejects. Costs per tunnel: one 'data' listener per side (byte counts), two socket
 * timeouts, a handful of closures.
 */
import type { Socket } from 'node:net';

export type RelayEnd = 'client_closed' | 'upstream_closed' | 'client_error' | 'upstream_error' | 'idle_timeout' | 'stopped';

export interface RelayResult {
  readonly end: RelayEnd;
  /** Bytes client → upstream and upstream → client, as read from each side. */
  readonly bytesFromClient: number;
  readonly bytesFromUpstream: number;
}

export function relayBytes(client: Socket, upstream: Socket, idleMs: number, signal: AbortSignal): Promise<RelayResult> {
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
      // The other side ends gracefully when it is still writable (pipe already ended it on FIN).
      if (!upstream.destroyed) upstream.end();
      onClosed();
    });
    upstream.once('close', () => {
      finish('upstream_closed', false);
      if (!client.destroyed) client.end();
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
