/**
 * Clients for servers reached through a unix socket (a node of the netns fleet: its listener
 * and admin ports are bridged to `<dir>/<node>/listener.sock` and `admin.sock`).
 *
 * UnixHttpsClient speaks HTTPS (HTTP/1.1 over TLS, undici) with the certificate verified
 * against the test CA for `servername`. It opens a new connection every `requestsPerConnection`
 * requests (default 1): behind a rotating bridge (unix-bridge.ts) every connection is a new
 * client address, which is what the in-node canary splits by. Every request is bounded by its
 * timeout; a transport failure resolves as `{status: 0, error}` so load loops can count it.
 */
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { Client } from 'undici';

export interface UnixTarget {
  readonly socketPath: string;
  /** PEM text of the CA that signed the listener's certificate. */
  readonly ca: string;
  /** SNI and the name the certificate is checked against; default `localhost`. */
  readonly servername?: string;
}

export interface SimpleResponse {
  /** The HTTP status, or 0 when the request failed below HTTP (refused, reset, timeout). */
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Why it failed when `status` is 0. */
  readonly error?: string;
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export class UnixHttpsClient {
  readonly #target: UnixTarget;
  readonly #perConnection: number;
  #client: Client | undefined;
  #used = 0;
  #connectTimeoutMs = 10_000;

  constructor(target: UnixTarget, requestsPerConnection = 1) {
    this.#target = target;
    this.#perConnection = Math.max(1, requestsPerConnection);
  }

  #fresh(): Client {
    const { socketPath, ca } = this.#target;
    const servername = this.#target.servername ?? 'localhost';
    return new Client(`https://${servername}`, {
      pipelining: 1,
      // A stopped peer still accepts on a unix socket (the kernel's backlog) and then never
      // answers the handshake: the connect is bounded here, undici's own timeout is not used.
      connect: (_opts, callback) => {
        const socket = tlsConnect({ path: socketPath, servername, ca, ALPNProtocols: ['http/1.1'] });
        let settled = false;
        const settle = (err: Error | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) {
            socket.destroy();
            callback(err, null);
          } else callback(null, socket);
        };
        const timer = setTimeout(() => settle(new Error(`TLS connect over ${socketPath}: no handshake within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
        socket.once('secureConnect', () => settle(null));
        socket.once('error', (err) => settle(err));
      },
    });
  }

  /** GET `path`; never rejects (see SimpleResponse.status 0). */
  async get(path: string, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<SimpleResponse> {
    if (this.#client === undefined || this.#used >= this.#perConnection) {
      const old = this.#client;
      this.#client = this.#fresh();
      this.#used = 0;
      if (old) void old.close().catch(() => undefined);
    }
    this.#used++;
    this.#connectTimeoutMs = timeoutMs;
    const client = this.#client;
    try {
      const res = await client.request({
        method: 'GET',
        path,
        headers: { host: this.#target.servername ?? 'localhost', ...headers },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await res.body.text();
      return { status: res.statusCode, headers: flatten(res.headers), body };
    } catch (err) {
      // A broken connection is not reused: the next request dials again.
      if (this.#client === client) this.#client = undefined;
      void client.destroy().catch(() => undefined);
      return { status: 0, headers: {}, body: '', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.destroy().catch(() => undefined);
  }
}

/** One plain-HTTP GET over a unix socket (a node's admin server); rejects after `timeoutMs`. */
export function httpGetOverUnix(socketPath: string, path: string, timeoutMs = 5_000): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, path, method: 'GET', headers: { host: 'localhost' }, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flatten(res.headers), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} over ${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
