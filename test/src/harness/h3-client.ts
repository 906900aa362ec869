/**
 * A small HTTP/3 client for tests and the demo, on @currentspace/http3's own client.
 */

import { isIP } from 'node:net';
import { connectAsync, type Http3ClientSession } from '@currentspace/http3';

export interface H3Response {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  readonly trailers: Record<string, string | string[]> | null;
}

export interface H3RequestOptions {
  readonly method?: string;
  readonly path?: string;
  /** `:authority`; default `localhost:<port>`. */
  readonly authority?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly timeoutMs?: number;
}

/** Opens a QUIC connection to host:port, 127.0.0.1 by default (certificate not verified: test certs). */
export async function connectH3(port: number, host = '127.0.0.1'): Promise<Http3ClientSession> {
  // An IPv6 literal goes as { host, port }: the library's string form does not take brackets.
  const endpoint = isIP(host) === 6 ? { host, port } : `${host}:${port}`;
  const session = await connectAsync(endpoint, { rejectUnauthorized: false, servername: 'localhost', connectTimeoutMs: 10_000 });
  session.on('error', () => {
    // Errors surface on the request streams; an unhandled session error must not kill the test.
  });
  return session;
}

/** Sends one request on `session` and collects the whole response. */
export async function h3Request(session: Http3ClientSession, port: number, opts: H3RequestOptions = {}): Promise<H3Response> {
  const method = opts.method ?? 'GET';
  const headers = {
    ':method': method,
    ':scheme': 'https',
    ':authority': opts.authority ?? `localhost:${port}`,
    ':path': opts.path ?? '/',
    ...(opts.headers ?? {}),
  };
  const hasBody = opts.body !== undefined;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  // The wait for stream capacity is bounded by the same timeout (the library's default is 30 s).
  const stream = await session.requestAsync(headers, { endStream: !hasBody, timeoutMs });
  return await new Promise<H3Response>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`HTTP/3 ${method} ${headers[':path']} timed out`));
    }, timeoutMs);
    let status = 0;
    let respHeaders: Record<string, string | string[]> = {};
    let trailers: H3Response['trailers'] = null;
    const chunks: Buffer[] = [];
    stream.on('response', (h: Record<string, string | string[]>) => {
      status = Number(h[':status']);
      respHeaders = h;
    });
    stream.on('trailers', (t: Record<string, string | string[]>) => {
      trailers = t;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status, headers: respHeaders, body: Buffer.concat(chunks), trailers });
    });
    stream.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    if (hasBody) stream.end(opts.body);
  });
}

/** One-shot: connect, request, close. */
export async function h3Fetch(port: number, opts: H3RequestOptions = {}): Promise<H3Response> {
  const session = await connectH3(port);
  try {
    return await h3Request(session, port, opts);
  } finally {
    await session.close().catch(() => {});
  }
}
