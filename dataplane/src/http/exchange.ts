/**
 * The protocol-neutral request/response contract. Ingress adapters (ingress/h3, ingress/tcp)
 * turn a QUIC stream or an HTTP/2 / HTTP/1.1 request into an Exchange; nothing past ingress
 * knows which protocol the client spoke.
 */
import type { CancelSignal } from './cancellation.ts';
import type { Duplex, Readable } from 'node:stream';

/** Header list: lowercase names, in arrival order, repeated names allowed. No pseudo-headers. */
export type HeaderList = Array<[name: string, value: string]>;

export type ClientProtocol = 'h3' | 'h2' | 'http/1.1';

export interface RequestHead {
  readonly method: string;
  /** `:scheme` (h3/h2) or "https" for HTTP/1.1 over TLS. */
  readonly scheme: string;
  /** `:authority` as received, null when absent (the Host header is in `headers`). */
  readonly authority: string | null;
  /** Request target exactly as received (path + query), forwarded unchanged. */
  readonly path: string;
  readonly headers: HeaderList;
}

/** Where the response goes. Exactly one head; body writes only after it; end or abort once. */
export interface ResponseSink {
  readonly headersSent: boolean;
  /** True once end() or abort() ran, or the client went away. */
  readonly closed: boolean;
  /** Sends status + headers. `endStream` true = no body follows (HEAD, 204, 304, empty). */
  sendHead(status: number, headers: HeaderList, endStream: boolean): void;
  /**
   * Sends a whole response at once: status, headers, the complete body (null = none) and the
   * end of the stream, in as few writes to the client as the ingress allows (one library call
   * on HTTP/3). Nothing may follow it.
   */
  sendComplete(status: number, headers: HeaderList, body: Uint8Array | null): void;
  /** Writes a body chunk; false = the client's buffer is full, await drain() before more. */
  write(chunk: Uint8Array): boolean;
  /** Resolves when the client can take more body (or the sink closed). */
  drain(): Promise<void>;
  /** Ends the body, with trailers when given (relayed from the upstream, e.g. grpc-status). */
  end(trailers?: HeaderList): void;
  /**
   * Resets the stream (response truncated or cancelled) — also after end() while the stream has
   * not closed yet (a client that stopped reading still holds unsent bytes).
   */
  abort(reason: 'cancel' | 'internal'): void;
  /**
   * True once the stream is done: closed after everything written was handed to the transport,
   * or reset, or the client went away.
   */
  readonly done: boolean;
  /** Calls `fn` once when `done` becomes true (the runner's only use; one callback). */
  whenDone(fn: () => void): void;
}

/** One end of a tunnel: a byte stream with node's inactivity timer (net.Socket, Http2Stream). */
export type TunnelEnd = Duplex & { setTimeout(ms: number, callback: () => void): unknown };

/**
 * A request that asks for a byte tunnel instead of a response body (the tunnel stage owns the
 * client's bytes from then on):
 *  - kind `websocket`, handshake `http1`: an HTTP/1.1 `Upgrade: websocket`, answered 101;
 *  - kind `websocket`, handshake `h2`: an RFC 8441 extended CONNECT (`:protocol websocket`) on
 *    one HTTP/2 stream, answered 200 (no Sec-WebSocket-Key / -Accept on that side);
 *  - kind `connect`, handshake `http1`: an HTTP/1.1 `CONNECT host:port`, answered 200.
 */
export interface ClientTunnel {
  readonly kind: 'websocket' | 'connect';
  readonly handshake: 'http1' | 'h2';
  /** The client's bytes: its connection (detached from node's HTTP/1.1 parser) or its HTTP/2 stream. */
  readonly socket: TunnelEnd;
  /** Bytes the client sent after the request head (already read by node's parser); empty on h2. */
  readonly head: Buffer;
  /** Sends the tunnel's success head (101 / 200) to the client; the relay follows. */
  accept(status: number, headers: HeaderList): void;
}

export interface Exchange {
  readonly protocol: ClientProtocol;
  readonly head: RequestHead;
  /** Client address and port, null when the ingress cannot know them. */
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  /**
   * Stable identity of the client connection this request arrived on, for sticky-cid
   * balancing; absent or null when the ingress has none (then the client address:port
   * stands in). For HTTP/3 it is NOT the QUIC wire connection id: see
   * ingress/h3/library-internals.ts (PeerBook) for what it is and its limits.
   */
  readonly connectionId?: string | null;
  /** Request body, paused until consumed; null when the request ended with its headers. */
  readonly body: Readable | null;
  /** Aborted when the client resets the stream or the connection goes away. */
  readonly signal: CancelSignal;
  readonly response: ResponseSink;
  /** Set only on tunnel requests (see ClientTunnel); they run the tunnel stage list. */
  readonly tunnel?: ClientTunnel;
}
