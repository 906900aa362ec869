/**
 * Raw connections for hostile-client tests: a TLS socket (HTTP/1.1 ALPN) that writes exactly
 * the bytes given — malformed framing included, which no HTTP client library would send — and
 * a plain TCP socket that never starts TLS. Everything received is kept; waits are bounded and
 * resolve with what happened (never reject on a server close: a close is an expected answer).
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

export class RawConnection {
  readonly socket: Socket | TLSSocket;
  readonly openedAt = Date.now();
  readonly #chunks: Buffer[] = [];
  #closedAt: number | null = null;
  #error: string | null = null;
  readonly #closed: Promise<void>;
  readonly #listeners = new Set<() => void>();

  constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      for (const l of this.#listeners) l();
    });
    socket.on('error', (err: Error) => {
      this.#error = (err as { code?: string }).code ?? err.message;
    });
    this.#closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#closedAt = Date.now();
        for (const l of this.#listeners) l();
        resolve();
      }),
    );
  }

  get received(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  get closed(): boolean {
    return this.#closedAt !== null;
  }

  /** Milliseconds from open to close, or null while open. */
  get lifetimeMs(): number | null {
    return this.#closedAt === null ? null : this.#closedAt - this.openedAt;
  }

  get error(): string | null {
    return this.#error;
  }

  /** HTTP/1.x status codes of the response heads received so far, in order. */
  statuses(): number[] {
    const text = this.received.toString('latin1');
    return [...text.matchAll(/(?:^|\r?\n)HTTP\/1\.[01] (\d{3})[^\r\n]*\r?\n/g)].map((m) => Number(m[1]));
  }

  /** Writes unless the socket is already gone (a write after the server closed is not an error here). */
  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** True once closed, false if still open after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#closed, new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
    return this.closed;
  }

  /** Resolves when `done()` holds (checked on every chunk and on close) or after `timeoutMs`. */
  waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done() && !this.closed) return;
        finish(done());
      };
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(done()), timeoutMs);
      this.#listeners.add(check);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A TLS connection (certificate not verified: test certs) once the handshake is done. */
export function rawTls(port: number, alpn: readonly string[] = ['http/1.1'], timeoutMs = 5000): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: [...alpn] });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake to :${port} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(new RawConnection(socket));
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
  });
}

/** A plain TCP connection that never sends a ClientHello (unless the test writes one). */
export function rawTcp(port: number, timeoutMs = 5000): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to :${port} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(new RawConnection(socket));
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
  });
}
