/**
 * The well-behaved client that runs beside every hostile case: one loop per protocol (HTTP/3
 * through the library's client, HTTP/2 through node:http2, HTTP/1.1 through node:https with a
 * keep-alive agent), each sending GET `path` one request at a time, ~`gapMs` apart, and
 * counting answers. Success = status 200 within `requestTimeoutMs`, default 4 s (a slow
 * answer is a failure: a flood that makes others wait seconds is a denial of service too — the
 * HTTP/2 rapid reset of issue 7 made them wait 4.7 s; a local request normally takes ~5 ms).
 *
 * Each loop keeps one connection, as a browser would, and opens a new one only when the server
 * closed or GOAWAY'd the old one; a request in flight on a connection that dies counts as a
 * failure (no retries: that would hide what the hostile client did to others).
 */
import { EventEmitter } from 'node:events';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import type { Http3ClientSession } from '@currentspace/http3';
import { connectH3, h3Request } from './h3-client.ts';

export type Protocol = 'h1' | 'h2' | 'h3';
export const PROTOCOLS: readonly Protocol[] = ['h1', 'h2', 'h3'];

export interface WellBehavedCounts {
  readonly ok: number;
  readonly failed: number;
  readonly total: number;
  readonly perProtocol: Record<Protocol, { ok: number; failed: number }>;
  /** The first few failures, `<protocol>: <reason>`. */
  readonly failures: readonly string[];
  readonly maxLatencyMs: number;
}

export interface WellBehavedOptions {
  readonly port: number;
  readonly path: string;
  readonly protocols?: readonly Protocol[];
  readonly gapMs?: number;
  readonly requestTimeoutMs?: number;
}

export class WellBehavedClient {
  readonly #opts: Required<WellBehavedOptions>;
  readonly #counts: Record<Protocol, { ok: number; failed: number }> = { h1: { ok: 0, failed: 0 }, h2: { ok: 0, failed: 0 }, h3: { ok: 0, failed: 0 } };
  readonly #failures: string[] = [];
  readonly #events = new EventEmitter();
  readonly #loops: Promise<void>[];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  #h2: ClientHttp2Session | null = null;
  #h3: Http3ClientSession | null = null;
  #h3Closed = false;
  #stopping = false;
  #maxLatencyMs = 0;

  constructor(opts: WellBehavedOptions) {
    this.#opts = { protocols: PROTOCOLS, gapMs: 20, requestTimeoutMs: 4000, ...opts };
    this.#events.setMaxListeners(0);
    this.#loops = this.#opts.protocols.map((p) => this.#loop(p));
  }

  counts(): WellBehavedCounts {
    let ok = 0;
    let failed = 0;
    for (const p of PROTOCOLS) {
      ok += this.#counts[p].ok;
      failed += this.#counts[p].failed;
    }
    const perProtocol = { h1: { ...this.#counts.h1 }, h2: { ...this.#counts.h2 }, h3: { ...this.#counts.h3 } };
    return { ok, failed, total: ok + failed, perProtocol, failures: [...this.#failures], maxLatencyMs: this.#maxLatencyMs };
  }

  /**
   * Resolves once every protocol has `n` more successes than now; false if that did not
   * happen within `timeoutMs` (the caller's assertion then reports the counts).
   */
  progress(n: number, timeoutMs: number): Promise<boolean> {
    const base = Object.fromEntries(this.#opts.protocols.map((p) => [p, this.#counts[p].ok])) as Record<Protocol, number>;
    const done = (): boolean => this.#opts.protocols.every((p) => this.#counts[p].ok >= base[p] + n);
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.#events.off('ok', check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#events.off('ok', check);
        resolve(done());
      }, timeoutMs);
      this.#events.on('ok', check);
    });
  }

  /** Stops the loops (each finishes its request in flight) and closes the connections. */
  async stop(): Promise<WellBehavedCounts> {
    this.#stopping = true;
    await Promise.all(this.#loops);
    this.#agent.destroy();
    this.#h2?.destroy();
    await this.#h3?.close().catch(() => {});
    return this.counts();
  }

  async #loop(protocol: Protocol): Promise<void> {
    while (!this.#stopping) {
      const started = Date.now();
      let failure: string | null = null;
      try {
        const status = await withTimeout(this.#request(protocol), this.#opts.requestTimeoutMs, `${protocol} request`);
        if (status !== 200) failure = `status ${status}`;
      } catch (err) {
        failure = (err as { code?: string }).code ?? (err as Error).message;
      }
      const elapsed = Date.now() - started;
      this.#maxLatencyMs = Math.max(this.#maxLatencyMs, elapsed);
      if (failure === null) {
        this.#counts[protocol].ok++;
        this.#events.emit('ok');
      } else {
        this.#counts[protocol].failed++;
        if (this.#failures.length < 10) this.#failures.push(`${protocol}: ${failure} after ${elapsed} ms`);
      }
      await new Promise((r) => setTimeout(r, this.#opts.gapMs));
    }
  }

  #request(protocol: Protocol): Promise<number> {
    if (protocol === 'h1') return this.#h1();
    if (protocol === 'h2') return this.#h2Request();
    return this.#h3Request();
  }

  #h1(): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: this.#opts.port, path: this.#opts.path, agent: this.#agent, headers: { host: `localhost:${this.#opts.port}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  #h2Session(): ClientHttp2Session {
    const s = this.#h2;
    if (s && !s.closed && !s.destroyed) return s;
    const session = h2connect(`https://127.0.0.1:${this.#opts.port}`, { rejectUnauthorized: false, servername: 'localhost' });
    session.on('error', () => {
      // Surfaces on the request in flight; the next request opens a new session.
    });
    session.on('goaway', () => {
      if (this.#h2 === session) this.#h2 = null;
    });
    this.#h2 = session;
    return session;
  }

  #h2Request(): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = this.#h2Session().request({ ':method': 'GET', ':path': this.#opts.path, ':authority': `localhost:${this.#opts.port}` }, { endStream: true });
      let status = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.on('error', reject);
      req.resume();
      req.on('end', () => resolve(status));
      req.on('close', () => {
        if (status === 0) reject(new Error(`h2 stream closed without a response (rst ${req.rstCode})`));
      });
    });
  }

  async #h3Request(): Promise<number> {
    if (this.#h3 === null || this.#h3Closed) {
      this.#h3Closed = false;
      const session = await connectH3(this.#opts.port);
      session.on('close', () => {
        if (this.#h3 === session) this.#h3Closed = true;
      });
      session.on('goaway', () => {
        if (this.#h3 === session) this.#h3Closed = true;
      });
      this.#h3 = session;
    }
    const res = await h3Request(this.#h3, this.#opts.port, { path: this.#opts.path, timeoutMs: this.#opts.requestTimeoutMs });
    return res.status;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
