/**
 * Test support: raw bytes to the TLS TCP listener over one fresh connection (ALPN http/1.1),
 * and the responses that come back, parsed just enough to count and check them.
 *
 * Reading stops at the first of: the server closes; `expectResponses` complete responses
 * arrived; nothing arrived for `idleMs` (a server waiting for more of a request it was not
 * given is allowed to wait); `deadlineMs` in all. The client never half-closes: node's
 * HTTP/1.1 server aborts in-flight requests of a half-closed connection.
 */
import { connect } from 'node:tls';

export interface RawResponse {
  readonly statusLine: string;
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface RawHttp1Result {
  readonly responses: RawResponse[];
  /** Bytes after the last complete response (a response cut short, or garbage). */
  readonly leftover: Buffer;
  /** Why reading stopped. */
  readonly end: 'closed' | 'complete' | 'idle' | 'deadline';
  readonly elapsedMs: number;
}

export interface RawHttp1Options {
  readonly expectResponses: number;
  readonly idleMs: number;
  readonly deadlineMs: number;
  /** Methods in request order, so HEAD responses are parsed without a body. */
  readonly methods?: readonly string[];
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5][0-9][0-9]) [^\r\n]*$/;

export function sendRawHttp1(port: number, bytes: Buffer, options: RawHttp1Options): Promise<RawHttp1Result> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    let received = Buffer.alloc(0);
    let done = false;
    let idle: NodeJS.Timeout | null = null;
    const finish = (end: RawHttp1Result['end']): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (idle) clearTimeout(idle);
      socket.destroy();
      try {
        const parsed = parseResponses(received, options.methods ?? [], end === 'closed');
        resolve({ ...parsed, end, elapsedMs: performance.now() - started });
      } catch (err) {
        reject(err);
      }
    };
    const armIdle = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => finish('idle'), options.idleMs);
    };
    const deadline = setTimeout(() => finish('deadline'), options.deadlineMs);
    socket.on('secureConnect', () => {
      socket.write(bytes);
      armIdle();
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      armIdle();
      try {
        if (parseResponses(received, options.methods ?? [], false).responses.length >= options.expectResponses) finish('complete');
      } catch (err) {
        done = true;
        clearTimeout(deadline);
        if (idle) clearTimeout(idle);
        socket.destroy();
        reject(err);
      }
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
  });
}

/**
 * Complete responses at the front of `data`. Throws on bytes that cannot begin a response
 * (that is a finding: the server wrote something that is not HTTP/1.1). `closed`: a body
 * delimited by the connection's end is complete.
 */
export function parseResponses(data: Buffer, methods: readonly string[], closed: boolean): Omit<RawHttp1Result, 'end' | 'elapsedMs'> {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    if (at >= data.length) break;
    const headEnd = data.indexOf('\r\n\r\n', at);
    const firstLineEnd = data.indexOf('\r\n', at);
    const firstLine = data.subarray(at, firstLineEnd === -1 ? Math.min(data.length, at + 64) : firstLineEnd).toString('latin1');
    if (!'HTTP/1.'.startsWith(firstLine.slice(0, 7)) || (firstLineEnd !== -1 && !STATUS_LINE.test(firstLine))) {
      throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(firstLine)}`);
    }
    if (headEnd === -1) break;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const statusLine = lines[0] as string;
    const status = Number(STATUS_LINE.exec(statusLine)?.[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed response header line: ${JSON.stringify(line)}`);
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const bodyStart = headEnd + 4;
    const method = methods[responses.length] ?? 'GET';
    let body: Buffer;
    let next: number;
    const length = headers.get('content-length');
    if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      next = bodyStart;
    } else if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const chunked = parseChunked(data, bodyStart);
      if (chunked === null) break;
      ({ body, next } = chunked);
    } else if (length !== undefined) {
      const n = Number(length);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad response content-length ${length}`);
      if (data.length < bodyStart + n) break;
      body = data.subarray(bodyStart, bodyStart + n);
      next = bodyStart + n;
    } else {
      if (!closed) break;
      body = data.subarray(bodyStart);
      next = data.length;
    }
    responses.push({ statusLine, status, headers, body });
    at = next;
  }
  return { responses, leftover: data.subarray(at) };
}

function parseChunked(data: Buffer, from: number): { body: Buffer; next: number } | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0] as string, 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error('bad chunk size in response');
    if (size === 0) {
      const end = data.indexOf('\r\n\r\n', lineEnd);
      if (end === -1) return null;
      return { body: Buffer.concat(parts), next: end + 4 };
    }
    if (data.length < lineEnd + 2 + size + 2) return null;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
