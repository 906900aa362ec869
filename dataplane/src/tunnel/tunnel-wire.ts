/**
 * Pure HTTP/1.1 wire pieces of a tunnel: recognising a WebSocket upgrade (RFC 6455 §4.1 /
 * RFC 9110 §7.8), serialising the request Spooky sends to the backend and the head it sends
 * to the client, and parsing the backend's response head. No sockets here (unit-tested).
 */
import { createHash } from 'node:crypto';
import type { HeaderList } from '../http/exchange.ts';
import { endToEndHeaders } from '../http/hop-by-hop.ts';

/** Longest backend response head accepted (status line + headers + CRLFCRLF). */
export const MAX_RESPONSE_HEAD_BYTES = 65_536;

/** True when a comma-separated header (all values) lists `token` (case-insensitive). */
export function listsToken(headers: HeaderList, name: string, token: string): boolean {
  for (const [n, value] of headers) {
    if (n !== name) continue;
    for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

/**
 * Is this request an RFC 6455 opening handshake Spooky can relay? GET, `Connection: upgrade`,
 * `Upgrade: websocket`. (Sec-WebSocket-Key / -Version are the origin's to check: it answers
 * 400 / 426 itself, and that answer is relayed.)
 */
export function isWebSocketUpgrade(method: string, headers: HeaderList): boolean {
  return method === 'GET' && listsToken(headers, 'connection', 'upgrade') && listsToken(headers, 'upgrade', 'websocket');
}

/** A request head as bytes: `METHOD target HTTP/1.1`, the headers, CRLFCRLF. */
export function serializeRequestHead(method: string, target: string, headers: HeaderList): Buffer {
  let text = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

/** A response head as bytes (`HTTP/1.1 status reason`, headers, CRLFCRLF). */
export function serializeResponseHead(status: number, reason: string, headers: HeaderList): Buffer {
  let text = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

/**
 * Headers of the WebSocket handshake sent to the backend: the client's end-to-end headers
 * (Sec-WebSocket-Key / -Version / -Protocol / -Extensions, Origin, cookies… pass; hop-by-hop
 * dropped) with the forwarding headers already added by `upstreamRequestHeaders`, plus
 * `connection: upgrade` and `upgrade: websocket` put back.
 */
export function websocketUpstreamHeaders(forwarded: HeaderList): HeaderList {
  const headers = forwarded.slice();
  headers.push(['connection', 'upgrade'], ['upgrade', 'websocket']);
  return headers;
}

/**
 * Headers of the 101 relayed to the client: the backend's end-to-end headers
 * (Sec-WebSocket-Accept / -Protocol / -Extensions …) plus `connection: upgrade` and
 * `upgrade: websocket`.
 */
export function websocketClientHeaders(backend: HeaderList): HeaderList {
  const headers = endToEndHeaders(backend);
  headers.push(['connection', 'upgrade'], ['upgrade', 'websocket']);
  return headers;
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 §4.2.2: the Sec-WebSocket-Accept answering `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** True when the backend's 101 carries the Accept for `key`. */
export function acceptMatches(backend: HeaderList, key: string): boolean {
  for (const [name, value] of backend) if (name === 'sec-websocket-accept') return value === acceptFor(key);
  return false;
}

/**
 * RFC 8441 → RFC 6455: the backend handshake headers for an HTTP/2 client's extended CONNECT:
 * its forwarded headers without any Sec-WebSocket-Key / -Accept it may have sent, with `key`,
 * and Sec-WebSocket-Version 13 unless it named one.
 */
export function h2UpstreamHeaders(forwarded: HeaderList, key: string): HeaderList {
  const headers = forwarded.filter(([name]) => name !== 'sec-websocket-key' && name !== 'sec-websocket-accept');
  headers.push(['sec-websocket-key', key]);
  if (!headers.some(([name]) => name === 'sec-websocket-version')) headers.push(['sec-websocket-version', '13']);
  return headers;
}

/** The 200 to an RFC 8441 client: the backend's end-to-end headers, no Accept (HTTP/2 has no connection headers). */
export function h2ClientHeaders(backend: HeaderList): HeaderList {
  return endToEndHeaders(backend).filter(([name]) => name !== 'sec-websocket-accept');
}

export type ResponseHeadParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | {
      readonly kind: 'head';
      readonly status: number;
      readonly reason: string;
      /** Lowercase names, arrival order. */
      readonly headers: HeaderList;
      /** Bytes after the head (the start of the tunnel or of the body). */
      readonly rest: Buffer;
    };

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters other than HTAB (code points 0–8, 10–31, 127). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

/**
 * Parses a backend response head from the bytes received so far. `incomplete` while no
 * CRLFCRLF arrived and fewer than MAX_RESPONSE_HEAD_BYTES were seen; `invalid` for anything
 * malformed (no obs-fold, no bare LF line ends, no control characters in values).
 */
export function parseResponseHead(received: Buffer): ResponseHeadParse {
  const end = received.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) {
    return received.length >= MAX_RESPONSE_HEAD_BYTES ? { kind: 'invalid', reason: 'response head too large' } : { kind: 'incomplete' };
  }
  if (end + 4 > MAX_RESPONSE_HEAD_BYTES) return { kind: 'invalid', reason: 'response head too large' };
  const lines = received.toString('latin1', 0, end).split('\r\n');
  const match = STATUS_LINE.exec(lines[0] ?? '');
  if (match === null) return { kind: 'invalid', reason: 'bad status line' };
  const headers: HeaderList = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'invalid', reason: 'bad header line' };
    const name = line.slice(0, colon);
    if (!HEADER_NAME.test(name)) return { kind: 'invalid', reason: 'bad header name' };
    const value = line.slice(colon + 1).trim();
    if (hasControl(value)) return { kind: 'invalid', reason: 'bad header value' };
    headers.push([name.toLowerCase(), value]);
  }
  return { kind: 'head', status: Number(match[1]), reason: match[2] ?? '', headers, rest: received.subarray(end + 4) };
}
