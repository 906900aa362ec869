/**
 * A minimal RFC 6455 WebSocket origin and client, written by hand on node:http / node:tls (no
 * npm dependency): the opening handshake with Sec-WebSocket-Accept, and frames (FIN set,
 * 7/16/64-bit lengths, masking from the client). Enough to prove a proxy relays the upgrade
 * and the bytes both ways; no fragmentation, no extensions.
 *
 * Origin paths: `/ws/echo…` echoes every text/binary frame and answers a close with a close;
 * `/ws/bye…` echoes the first message, then sends a close frame (1000) and ends the
 * connection; `/ws/refuse…` answers 403 with a body instead of upgrading; `/ws/garbage…`
 * answers bytes that are not HTTP; `/ws/bad-accept…` upgrades with a wrong Sec-WebSocket-Accept.
 */

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const OP = { TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface Frame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** One frame, FIN set; masked with a random key when `mask` (client → server frames must be). */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lenBytes + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (len < 126 ? len : len < 65_536 ? 126 : 127);
  if (lenBytes === 2) head.writeUInt16BE(len, 2);
  if (lenBytes === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + lenBytes);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([head, body]);
}

/** Decodes frames from a byte stream as it arrives (masked or not). */
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) break;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let len = (b[1] as number) & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const keyAt = offset;
      if (masked) offset += 4;
      if (b.length < offset + len) break;
      const payload = Buffer.from(b.subarray(offset, offset + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] = (payload[i] as number) ^ (b[keyAt + (i % 4)] as number);
      frames.push({ opcode: (b[0] as number) & 0x0f, payload });
      this.#buffer = b.subarray(offset + len);
    }
    return frames;
  }
}

export interface WebSocketOrigin {
  readonly server: Server;
  readonly url: string;
  /** Upgrade requests seen, in order (method, url, headers). */
  readonly upgrades: IncomingMessage[];
  /** Open upgraded connections. */
  readonly sockets: Set<Socket>;
  /** Resolves when `ok()` holds, re-checked on every upgrade and close; false after `ms`. */
  until(ok: () => boolean, ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Plain HTTP/1.1, or over TLS with `tls` (ALPN http/1.1, as a WebSocket backend behind `https://`). */
export async function startWebSocketOrigin(tls?: { readonly cert: string; readonly key: string }): Promise<WebSocketOrigin> {
  const upgrades: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of waiters) w();
  };
  const plain = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('plain origin answer');
  };
  const server: Server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, plain) : createServer(plain);
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    upgrades.push(req);
    socket.on('error', () => {});
    const url = req.url ?? '';
    if (url.startsWith('/ws/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nx-origin: refused\r\n\r\nnope!\r\n');
      poke();
      return;
    }
    if (url.startsWith('/ws/garbage')) {
      socket.end('this is not HTTP\r\n\r\n');
      poke();
      return;
    }
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || req.headers['upgrade']?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      poke();
      return;
    }
    sockets.add(socket);
    // node's HTTP server keeps upgraded sockets half-open: end our side on the peer's FIN, as
    // a WebSocket server does.
    socket.once('end', () => socket.end());
    socket.once('close', () => {
      sockets.delete(socket);
      poke();
    });
    const protocol = req.headers['sec-websocket-protocol'];
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${url.startsWith('/ws/bad-accept') ? 'AAAA' : acceptFor(key)}\r\n` +
        (typeof protocol === 'string' ? `sec-websocket-protocol: ${protocol.split(',')[0]?.trim()}\r\n` : '') +
        'x-origin: ws\r\n\r\n',
    );
    const bye = url.startsWith('/ws/bye');
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        if (f.opcode === OP.CLOSE) {
          socket.end(encodeFrame(OP.CLOSE, f.payload, false));
          return;
        }
        if (f.opcode === OP.PING) socket.write(encodeFrame(OP.PONG, f.payload, false));
        if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
          socket.write(encodeFrame(f.opcode, f.payload, false));
          if (bye) {
            const code = Buffer.alloc(2);
            code.writeUInt16BE(1000);
            socket.end(encodeFrame(OP.CLOSE, code, false));
            return;
          }
        }
      }
    });
    poke();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    upgrades,
    sockets,
    until(ok: () => boolean, ms: number): Promise<boolean> {
      if (ok()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const check = (): void => {
          if (!ok()) return;
          finish(true);
        };
        const finish = (v: boolean): void => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(v);
        };
        const timer = setTimeout(() => finish(ok()), ms);
        waiters.add(check);
      });
    },
    async close(): Promise<void> {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A WebSocket client over TLS (test certificates not verified), after its handshake. */
export class WebSocketClient {
  readonly socket: TLSSocket;
  /** The handshake response head (status line + headers), lowercase header names. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  #body: Buffer = Buffer.alloc(0);
  readonly #frames: Frame[] = [];
  readonly #reader = new FrameReader();
  readonly #listeners = new Set<() => void>();
  #closed = false;

  private constructor(socket: TLSSocket, status: number, headers: Record<string, string>, rest: Buffer) {
    this.socket = socket;
    this.status = status;
    this.headers = headers;
    const onBytes = (chunk: Buffer): void => {
      if (status === 101) this.#frames.push(...this.#reader.push(chunk));
      else this.#body = Buffer.concat([this.#body, chunk]);
      for (const l of this.#listeners) l();
    };
    if (rest.length > 0) onBytes(rest);
    socket.on('data', onBytes);
    socket.once('close', () => {
      this.#closed = true;
      for (const l of this.#listeners) l();
    });
  }

  /** Connects, sends the opening handshake for `path`, resolves with the answer's head (bounded by `timeoutMs`). */
  static open(port: number, path: string, extraHeaders: Record<string, string> = {}, timeoutMs = 10_000): Promise<WebSocketClient & { readonly key: string }> {
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      let received: Buffer = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error(`no handshake answer within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.on('error', (err) => fail(err));
      socket.once('close', () => fail(new Error(`closed before the handshake answer (${received.length} bytes)`)));
      socket.once('secureConnect', () => {
        let head = `GET ${path} HTTP/1.1\r\nhost: localhost:${port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n`;
        for (const [n, v] of Object.entries(extraHeaders)) head += `${n}: ${v}\r\n`;
        socket.write(`${head}\r\n`);
      });
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        const lines = received.toString('latin1', 0, end).split('\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        resolve(Object.assign(new WebSocketClient(socket, status, headers, received.subarray(end + 4)), { key }));
      };
      socket.on('data', onData);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Raw bytes after a non-101 head so far (the refusal's body). */
  get body(): Buffer {
    return this.#body;
  }

  send(opcode: number, payload: Buffer | string): void {
    this.socket.write(encodeFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, true));
  }

  /** Frames received so far (taken: each is returned once). */
  take(): Frame[] {
    return this.#frames.splice(0);
  }

  /** The next `n` frames, or null when they did not arrive within `timeoutMs`. */
  async next(n: number, timeoutMs: number): Promise<Frame[] | null> {
    const ok = await this.until(() => this.#frames.length >= n, timeoutMs);
    return ok ? this.#frames.splice(0, n) : null;
  }

  /** True once the connection closed, false after `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.#closed, timeoutMs);
  }

  /** Resolves when `ok()` holds (checked on every chunk and on close); false after `timeoutMs`. */
  until(ok: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ok()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (ok() || this.#closed) finish(ok());
      };
      const finish = (v: boolean): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => finish(ok()), timeoutMs);
      this.#listeners.add(check);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The response head of a client HTTP/2 stream, or a rejection after `ms` (no unbounded wait). */
export function h2ResponseHead(stream: ClientHttp2Stream, ms: number, what = 'no HTTP/2 answer'): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(what)), ms);
    stream.once('response', (h) => {
      clearTimeout(timer);
      resolve(h);
    });
  });
}
