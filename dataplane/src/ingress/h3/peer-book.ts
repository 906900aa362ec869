/**
 * The ONLY place that reads @currentspace/http3 0.9.0 internals. Two facts the public API does
 * not give a `stream` handler:
 *
 * 1. Which protocol the stream speaks. HTTP/2 streams arrive as `ServerHttp2StreamAdapter`
 *    (not exported); it holds the node:http2 stream in its `_h2Stream` field.
 * 2. The client's address. Sessions (`session` event) carry public `remoteAddress` /
 *    `remotePort`, but a stream has no public link to its session. Both classes declare
 *    `_connHandle` in the shipped .d.ts (marked @internal): the server stamps the same
 *    handle on an HTTP/3 session and on every stream of that connection, so a map
 *    handle → session filled from `session` events pairs them exactly. For HTTP/2 the
 *    adapter's node:http2 stream gives the socket through node's public `session.socket`.
 *
 * Every read is shape-checked: if a library update renames these fields, the protocol falls
 * back to 'h3' and the address to null (X-Forwarded-For then omits the client) — never a
 * crash. The ingress tests assert that the address is found, so such an update is noticed.
 */
import type { Http3ServerSession, ServerHttp3Stream } from '@currentspace/http3';

export interface Peer {
  readonly address: string | null;
  readonly port: number | null;
}

const UNKNOWN: Peer = { address: null, port: null };

interface H2StreamLike {
  session?: { socket?: { remoteAddress?: string; remotePort?: number } } | undefined;
}

/** True when the library adapted a node:http2 stream (TLS/TCP side) rather than a QUIC one. */
export function isHttp2Adapted(stream: ServerHttp3Stream): boolean {
  return h2StreamOf(stream) !== null;
}

function h2StreamOf(stream: ServerHttp3Stream): H2StreamLike | null {
  const inner = (stream as unknown as { _h2Stream?: unknown })._h2Stream;
  return typeof inner === 'object' && inner !== null ? (inner as H2StreamLike) : null;
}

function connHandleOf(x: object): number | null {
  const handle = (x as { _connHandle?: unknown })._connHandle;
  return typeof handle === 'number' ? handle : null;
}

/** One per server: remembers live HTTP/3 sessions by connection handle. */
export class PeerBook {
  readonly #byHandle = new Map<number, Http3ServerSession>();

  /** Call from the server's `session` event (HTTP/2 adapters are ignored). */
  track(session: Http3ServerSession): void {
    if (session.alpnProtocol === 'h2') return;
    const handle = connHandleOf(session);
    if (handle === null) return;
    this.#byHandle.set(handle, session);
    session.once('close', () => {
      if (this.#byHandle.get(handle) === session) this.#byHandle.delete(handle);
    });
  }

  /** The client of this stream, or nulls when it cannot be known. */
  peerOf(stream: ServerHttp3Stream): Peer {
    const h2 = h2StreamOf(stream);
    if (h2 !== null) {
      const socket = h2.session?.socket;
      return socket ? { address: socket.remoteAddress ?? null, port: socket.remotePort ?? null } : UNKNOWN;
    }
    const handle = connHandleOf(stream);
    const session = handle === null ? undefined : this.#byHandle.get(handle);
    if (!session || !session.remoteAddress) return UNKNOWN;
    return { address: session.remoteAddress, port: session.remotePort || null };
  }

  get size(): number {
    return this.#byHandle.size;
  }
}
