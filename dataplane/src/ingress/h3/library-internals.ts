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
 * 3. Trailers on HTTP/2. The adapter only forwards trailers from its 'wantTrailers' handler,
 *    and that handler gives up because node:http2 has already marked the stream
 *    writableEnded when it asks for trailers: adapter.sendTrailers() never reaches the wire
 *    (0.9.0; HTTP/3 is fine). `sendHttp2TrailersOnEnd` answers node's 'wantTrailers' on the
 *    inner node:http2 stream directly, with node's public API.
 *
 * 4. The node:http2 server behind the TLS TCP listener (`_h2Server`, set synchronously inside
 *    `listen()`, before the TCP side binds). The connection guards need node's public events
 *    on it ('connection' before any TLS work, 'secureConnection', 'session') and its public
 *    HTTP/1.1 timeout properties, none of which the library forwards. `tcpServerOf` returns
 *    null when the field is missing; the listener then refuses to open (an unguarded TCP
 *    listener is the resource bomb the guards exist to prevent).
 *
 * 5. HEAD over HTTP/2. node:http2 ends a HEAD request's writable side before the handler
 *    runs (no payload may follow), and the adapter's respond() takes that as "stream already
 *    closed" and sends nothing: the client waits forever (0.9.0). `respondHttp2HeadRequest`
 *    sends the head on the inner node:http2 stream with node's public respond(), which ends
 *    the stream; the adapter then closes with it.
 *
 * Every read is shape-checked: if a library update renames these fields, the protocol falls
 * back to 'h3' and the address to null (X-Forwarded-For then omits the client) — never a
 * crash. The ingress tests assert that the address is found, so such an update is noticed.
 */
import { randomBytes } from 'node:crypto';
import type { Http2SecureServer, ServerHttp2Stream } from 'node:http2';
import type { Http3SecureServer, Http3ServerSession, ServerHttp3Stream } from '@currentspace/http3';

export interface Peer {
  readonly address: string | null;
  readonly port: number | null;
  /** Per-connection identity for sticky-cid (HTTP/3 only; see PeerBook), else null. */
  readonly connectionId: string | null;
}

const UNKNOWN: Peer = { address: null, port: null, connectionId: null };

interface H2StreamLike {
  session?: { socket?: { remoteAddress?: string; remotePort?: number } } | undefined;
  prependOnceListener?: (event: 'wantTrailers', listener: () => void) => unknown;
  sendTrailers?: (headers: Record<string, string | string[]>) => void;
}

/** True when the library adapted a node:http2 stream (TLS/TCP side) rather than a QUIC one. */
export function isHttp2Adapted(stream: ServerHttp3Stream): boolean {
  return h2StreamOf(stream) !== null;
}

function h2StreamOf(stream: ServerHttp3Stream): H2StreamLike | null {
  const inner = (stream as unknown as { _h2Stream?: unknown })._h2Stream;
  return typeof inner === 'object' && inner !== null ? (inner as H2StreamLike) : null;
}

/**
 * For an HTTP/2-adapted stream: arranges for `trailers` to be sent when node asks for them,
 * which happens after the caller's end(). Returns false when the inner stream is not
 * reachable (the caller then falls back to the adapter's sendTrailers).
 *
 * Two other 'wantTrailers' listeners exist on that node:http2 stream: the adapter's (which
 * sends nothing, see above) and node's compat layer's — the library listens to the h2
 * server's 'request' event for HTTP/1.1, so node builds a compat response for every HTTP/2
 * stream, and that one sends *empty* trailers. A second sendTrailers() throws
 * ERR_HTTP2_TRAILERS_ALREADY_SENT as an uncaught exception. So the stream's own sendTrailers
 * is shadowed by a once-only function sending ours, whoever calls it first.
 */
export function sendHttp2TrailersOnEnd(stream: ServerHttp3Stream, trailers: Record<string, string | string[]>): boolean {
  const inner = h2StreamOf(stream);
  if (typeof inner?.prependOnceListener !== 'function' || typeof inner.sendTrailers !== 'function') return false;
  const original = inner.sendTrailers;
  let sent = false;
  const sendOnce = (): void => {
    if (sent) return;
    sent = true;
    try {
      original.call(inner, trailers);
    } catch {
      // The stream closed (client reset) before the trailers could go: nothing to deliver to.
    }
  };
  inner.sendTrailers = sendOnce;
  inner.prependOnceListener('wantTrailers', sendOnce);
  return true;
}

/**
 * For an HTTP/2-adapted stream of a HEAD request: sends `headers` (with `:status`) as the
 * whole response on the inner node:http2 stream. false when the stream is not such a stream
 * (the caller uses the adapter as usual); true when handled — also when the client is already
 * gone (node throws then; there is nobody to answer).
 */
export function respondHttp2HeadRequest(stream: ServerHttp3Stream, headers: Record<string, string | string[]>): boolean {
  const inner = h2StreamOf(stream) as (H2StreamLike & { headRequest?: unknown; respond?: unknown; headersSent?: unknown }) | null;
  if (inner === null || inner.headRequest !== true || typeof inner.respond !== 'function' || inner.headersSent === true) return false;
  try {
    (inner.respond as (h: Record<string, string | string[]>, o: { endStream: boolean }) => void).call(inner, headers, { endStream: true });
  } catch {
    // The stream closed under us (client reset), or node refused a header: reset it rather
    // than leave the client waiting (INTERNAL_ERROR); a closed stream ignores this.
    try {
      (inner as { close?: (code: number) => void }).close?.(0x2);
    } catch {
      // Already gone.
    }
  }
  return true;
}

function connHandleOf(x: object): number | null {
  const handle = (x as { _connHandle?: unknown })._connHandle;
  return typeof handle === 'number' ? handle : null;
}

/**
 * One per server: remembers live HTTP/3 sessions by connection handle.
 *
 * It also names each connection for sticky-cid. 0.9.0 exposes no QUIC connection id: neither
 * the public API nor the native events carry DCID/SCID bytes (the native side keeps them).
 * It does give `_connHandle`, the native connection's slot, stable for the life of the
 * connection including across client address migration (the library keys the connection by
 * it, not by address) — the property sticky-cid needs, and one a wire CID lacks anyway (CIDs
 * rotate via NEW_CONNECTION_ID). Handles may be reused after a close, so each tracked
 * session gets its own id `<process nonce>.<serial>`. Limits: it names one connection of
 * one process — a reconnect (even a 0-RTT resumption) is a new identity, and another Spooky
 * process cannot derive it (routing by the real CID, QUIC-LB style, is out of reach). A
 * stream whose session was not seen gets null; sticky-cid then keys on address:port.
 */
export class PeerBook {
  readonly #byHandle = new Map<number, Http3ServerSession>();
  readonly #ids = new WeakMap<Http3ServerSession, string>();
  readonly #nonce = randomBytes(4).toString('hex');
  #serial = 0;

  /** Call from the server's `session` event (HTTP/2 adapters are ignored). */
  track(session: Http3ServerSession): void {
    if (session.alpnProtocol === 'h2') return;
    const handle = connHandleOf(session);
    if (handle === null) return;
    this.#byHandle.set(handle, session);
    this.#ids.set(session, `${this.#nonce}.${(++this.#serial).toString(36)}`);
    session.once('close', () => {
      if (this.#byHandle.get(handle) === session) this.#byHandle.delete(handle);
    });
  }

  /** The client of this stream, or nulls when it cannot be known. */
  peerOf(stream: ServerHttp3Stream): Peer {
    const h2 = h2StreamOf(stream);
    if (h2 !== null) {
      const socket = h2.session?.socket;
      return socket ? { address: socket.remoteAddress ?? null, port: socket.remotePort ?? null, connectionId: null } : UNKNOWN;
    }
    const handle = connHandleOf(stream);
    const session = handle === null ? undefined : this.#byHandle.get(handle);
    if (!session?.remoteAddress) return UNKNOWN;
    return { address: session.remoteAddress, port: session.remotePort || null, connectionId: this.#ids.get(session) ?? null };
  }

  get size(): number {
    return this.#byHandle.size;
  }
}

/**
 * 6. RFC 8441 WebSocket tunnels on HTTP/2. The adapter's readable side pushes every chunk of
 *    the node:http2 stream into its own buffer ignoring push()'s answer (no backpressure), and
 *    its respond() asks node for trailers (the compat layer then races to send its own). A
 *    tunnel therefore relays on the inner node:http2 stream itself (node's public Duplex with
 *    flow control, `respond()`, `setTimeout()`); null when the stream is not such a stream.
 */
export function http2StreamOf(stream: ServerHttp3Stream): ServerHttp2Stream | null {
  const inner = h2StreamOf(stream) as Partial<ServerHttp2Stream> | null;
  if (inner === null || typeof inner.respond !== 'function' || typeof inner.pipe !== 'function' || typeof inner.setTimeout !== 'function') return null;
  return inner as ServerHttp2Stream;
}

/** The node:http2 server of the TLS TCP side; null when this library version has none. */
export function tcpServerOf(server: Http3SecureServer): Http2SecureServer | null {
  const inner = (server as unknown as { _h2Server?: unknown })._h2Server;
  if (typeof inner !== 'object' || inner === null) return null;
  const candidate = inner as Partial<Http2SecureServer>;
  return typeof candidate.on === 'function' && typeof candidate.updateSettings === 'function' ? (inner as Http2SecureServer) : null;
}

/**
 * The TLS socket under an HTTP/2-adapted stream (node's http2 session socket proxy, which
 * forwards property reads to the TLSSocket), or null for HTTP/3 streams. Used to read the
 * client certificate identity recorded at the TLS handshake (tcp/client-cert-identity.ts).
 */
export function tlsSocketOfStream(stream: ServerHttp3Stream): object | null {
  const socket = h2StreamOf(stream)?.session?.socket;
  return typeof socket === 'object' && socket !== null ? socket : null;
}

/** The connection handle of an HTTP/3 session or stream (see PeerBook), or null. */
export function connectionHandleOf(x: Http3ServerSession | ServerHttp3Stream): number | null {
  return connHandleOf(x);
}

/**
 * 7. A server whose TLS TCP side binds nothing. `listen()` creates its node:http2 server with
 *    `this._createH2Server()` and binds it on the UDP port; a listener instead owns one TCP
 *    socket for its whole life (serving-listener.ts), so that a new default certificate (a
 *    new QUIC server: 0.9.0 has one certificate per server and no reload) closes no TCP
 *    socket. The instance's `_createH2Server` is shadowed by one returning the library's own
 *    node:http2 server with a `listen` that binds nothing (it still emits 'listening', which
 *    starts node's HTTP/1.1 timeout sweep) and a `close` that reports success (node answers
 *    ERR_SERVER_NOT_RUNNING for a server that never bound, and the library would then skip the
 *    rest of its close). Connections reach that server through node's public
 *    `emit('connection', socket)`. Throws (nothing changed) when the library has no such
 *    method: the listener then refuses to open.
 */
export function detachTcpListener(server: Http3SecureServer): void {
  const target = server as unknown as { _createH2Server?: unknown };
  const create = target._createH2Server;
  if (typeof create !== 'function') throw new Error('@currentspace/http3: no _createH2Server to detach the TCP listener from');
  target._createH2Server = function detachedH2Server(this: unknown): unknown {
    const h2 = (create as () => Http2SecureServer).call(this);
    const close = h2.close;
    Object.assign(h2, {
      listen(...args: unknown[]): Http2SecureServer {
        const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
        if (done) h2.once('listening', done);
        process.nextTick(() => h2.emit('listening'));
        return h2;
      },
      close(done?: (err?: Error) => void): Http2SecureServer {
        close.call(h2);
        if (done) h2.once('close', () => done());
        return h2;
      },
    });
    return h2;
  };
}
