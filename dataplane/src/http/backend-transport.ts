/**
 * The transport port: how the attempt loop sends one try to one backend without knowing the
 * transport. forwarding/ implements it with undici; tests may fake it.
 *
 * Life of one call: `BackendTransport.forward()` resolves once the upstream's final response head arrived
 * (the body is held, paused, until `stream()` is called) or rejects with a SpookyError
 * (connect / TLS / timeout / protocol failure, client abort) before any head.
 */
import type { Readable } from 'node:stream';
import type { CancelSignal } from './cancellation.ts';
import type { HeaderList } from './exchange.ts';

export interface UpstreamRequest {
  readonly method: string;
  /** Request target forwarded unchanged (path + query). */
  readonly path: string;
  /** End-to-end headers to send, already filtered and with forwarding headers added. */
  readonly headers: HeaderList;
  /**
   * Streamed as-is (the transport never buffers it); null when the request has no body. An
   * async iterable when the attempt loop keeps the body for replay (attempts/replay-body.ts).
   */
  readonly body: Readable | AsyncIterable<Uint8Array> | null;
  /** Aborts the upstream request (client went away, hedge lost, request timeout). */
  readonly signal: CancelSignal;
  /** Counts request body bytes as they are handed to the transport. */
  readonly onBodyBytes?: (n: number) => void;
  /** The whole request body was handed to the transport. */
  readonly onBodyEnd?: () => void;
  /** The request started to be written to a connection (nothing was sent before this). */
  readonly onRequestStart?: () => void;
}

/** Receives the response body. `data` returning false pauses the upstream until `resume()`. */
export interface BodyConsumer {
  data(chunk: Uint8Array): boolean;
  /** Body complete; trailers relayed from the upstream (empty when none). */
  end(trailers: HeaderList): void;
  /** The upstream failed mid-body (reset, body idle timeout, client abort). */
  error(err: Error): void;
}

export interface UpstreamResponse {
  readonly status: number;
  /** Response headers with hop-by-hop and pseudo-headers already removed. */
  readonly headers: HeaderList;
  /** Starts body delivery; call exactly once. */
  stream(consumer: BodyConsumer): void;
  /** Resumes a body paused by `data()` returning false. */
  resume(): void;
  /** Cancels the response (e.g. the client went away). */
  abort(): void;
}

/**
 * One backend's transport (a connection pool). Created per stable backend identity by
 * LongLivedState, shared by every generation that names the same backend with the same
 * transport settings.
 */
export interface BackendTransport {
  /** `h2` for https:// backends (ALPN may still fall back to h1), `h1` for http://. */
  readonly protocol: 'h1' | 'h2';
  forward(request: UpstreamRequest): Promise<UpstreamResponse>;
  /** Graceful: in-flight requests finish, new ones are refused. */
  close(): Promise<void>;
}
