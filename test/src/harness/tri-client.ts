/**
 * One request shape over the three protocols a Spooky listener serves — HTTP/3 (QUIC), HTTP/2
 * and HTTP/1.1 (both over its TLS TCP listener) — with one response shape, so a suite can run
 * the same case over each and compare. Certificates are not verified (test certs); SNI is
 * `localhost`. Every request is bounded by `timeoutMs` (default 15 s): a stall rejects.
 *
 * HTTP/1.1: one connection per request (`agent: false`), `TE: trailers` always sent (a server
 * may only send trailers to a client that says it accepts them). Header values that arrive as
 * arrays (repeated fields) are joined with ", " on every protocol, so the shapes compare.
 */
import { type ClientHttp2Session, connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { Http3ClientSession } from '@currentspace/http3';
import { connectH3, h3Request } from './h3-client.ts';

export type Protocol = 'h3' | 'h2' | 'h1';
export const PROTOCOLS: readonly Protocol[] = ['h3', 'h2', 'h1'];

export interface TriRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  readonly timeoutMs?: number;
}

export interface TriResponse {
  readonly status: number;
  /** Lower-case names; pseudo-headers removed; repeated values joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Trailers as received, or {} when none came. */
  readonly trailers: Record<string, string>;
}

function flatten(h: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(':') || v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** Long-lived client sessions to one listener port, one per multiplexed protocol. */
export class TriClient {
  readonly port: number;
  #h3: Http3ClientSession | null = null;
  #h2: ClientHttp2Session | null = null;

  constructor(port: number) {
    this.port = port;
  }

  get authority(): string {
    return `localhost:${this.port}`;
  }

  async request(protocol: Protocol, req: TriRequest): Promise<TriResponse> {
    if (protocol === 'h3') return await this.#viaH3(req);
    if (protocol === 'h2') return await this.#viaH2(req);
    return await this.#viaH1(req);
  }

  async close(): Promise<void> {
    const h3 = this.#h3;
    const h2 = this.#h2;
    this.#h3 = null;
    this.#h2 = null;
    if (h2) await new Promise<void>((resolve) => h2.close(() => resolve()));
    if (h3) await h3.close().catch(() => {});
  }

  async #viaH3(req: TriRequest): Promise<TriResponse> {
    this.#h3 ??= await connectH3(this.port);
    const res = await h3Request(this.#h3, this.port, {
      method: req.method ?? 'GET',
      path: req.path,
      authority: this.authority,
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body ? { body: req.body } : {}),
      timeoutMs: req.timeoutMs ?? 15_000,
    });
    return { status: res.status, headers: flatten(res.headers), body: res.body, trailers: flatten(res.trailers) };
  }

  #session(): ClientHttp2Session {
    if (this.#h2 === null || this.#h2.closed || this.#h2.destroyed) {
      const s = h2connect(`https://127.0.0.1:${this.port}`, { rejectUnauthorized: false, servername: 'localhost' });
      s.on('error', () => {
        // Surfaces on the request streams; a session error must not kill the test process.
      });
      this.#h2 = s;
    }
    return this.#h2;
  }

  #viaH2(req: TriRequest): Promise<TriResponse> {
    const stream = this.#session().request(
      { ':method': req.method ?? 'GET', ':path': req.path, ':authority': this.authority, ':scheme': 'https', ...(req.headers ?? {}) },
      { endStream: req.body === undefined },
    );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`HTTP/2 ${req.method ?? 'GET'} ${req.path} timed out`));
      }, req.timeoutMs ?? 15_000);
      let status = 0;
      let headers: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h: IncomingHttpHeaders) => {
        status = Number(h[':status']);
        headers = flatten(h);
      });
      stream.on('trailers', (t: IncomingHttpHeaders) => {
        trailers = flatten(t);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve({ status, headers, body: Buffer.concat(chunks), trailers });
      });
      stream.on('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      if (req.body !== undefined) stream.end(req.body);
    });
  }

  #viaH1(req: TriRequest): Promise<TriResponse> {
    return new Promise((resolve, reject) => {
      const r = httpsRequest({
        host: '127.0.0.1',
        port: this.port,
        servername: 'localhost',
        rejectUnauthorized: false,
        agent: false,
        method: req.method ?? 'GET',
        path: req.path,
        headers: { host: this.authority, te: 'trailers', ...(req.headers ?? {}), ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
      });
      const timer = setTimeout(() => {
        r.destroy();
        reject(new Error(`HTTP/1.1 ${req.method ?? 'GET'} ${req.path} timed out`));
      }, req.timeoutMs ?? 15_000);
      r.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: flatten(res.headers), body: Buffer.concat(chunks), trailers: flatten(res.trailers) });
        });
      });
      r.end(req.body);
    });
  }
}
