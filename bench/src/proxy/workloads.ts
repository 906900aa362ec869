/**
 * The suite's workloads and the origin contract they rely on: every origin (node:http,
 * node:http2, the direct HTTP/3 one) answers `GET /bytes/<n>` with n bytes and `POST /echo`
 * with the request body, both with content-length.
 */

export interface Workload {
  /** Stable key (JSON, `--workloads`). */
  readonly name: string;
  /** Row label in the tables. */
  readonly label: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Request body size (POST only). */
  readonly requestBytes: number;
  /** Expected response body size: any other size is a `short-body` error. */
  readonly responseBytes: number;
  /** Closed loop: QUIC connections, and requests kept in flight on each. */
  readonly connections: number;
  readonly streams: number;
  /**
   * Each connection sends `path?c=<tag>` (its own tag), so a target's access log shows which
   * connection a request came on. Every origin ignores the query (bodyForPath).
   */
  readonly tagConnections?: boolean;
}

export const SMALL_BYTES = 64;

export const WORKLOADS: readonly Workload[] = [
  { name: 'small-get', label: 'small GET (64 B), 16 conn × 16 streams', method: 'GET', path: `/bytes/${SMALL_BYTES}`, requestBytes: 0, responseBytes: SMALL_BYTES, connections: 16, streams: 16 },
  { name: 'get-64k', label: '64 KiB GET, 8 × 4', method: 'GET', path: '/bytes/65536', requestBytes: 0, responseBytes: 65_536, connections: 8, streams: 4 },
  { name: 'get-1m', label: '1 MiB GET, 4 × 2', method: 'GET', path: '/bytes/1048576', requestBytes: 0, responseBytes: 1_048_576, connections: 4, streams: 2 },
  { name: 'post-1k', label: '1 KiB POST echo, 16 × 16', method: 'POST', path: '/echo', requestBytes: 1024, responseBytes: 1024, connections: 16, streams: 16 },
];

/** The open-loop (fixed offered rate) workload: small GETs spread over 16 connections. */
export const OPEN_LOOP_WORKLOAD: Workload = {
  name: 'small-get-open',
  label: 'small GET at a fixed rate, 16 conn',
  method: 'GET',
  path: `/bytes/${SMALL_BYTES}`,
  requestBytes: 0,
  responseBytes: SMALL_BYTES,
  connections: 16,
  streams: 0,
};

const MAX_BODY = 16 * 1024 * 1024;
const bodies = new Map<number, Buffer>();

/** Deterministic filler bytes (not all zeros, so nothing on the path can shortcut them). */
export function patternBody(size: number): Buffer {
  let body = bodies.get(size);
  if (!body) {
    body = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) body[i] = 97 + (i % 26);
    bodies.set(size, body);
  }
  return body;
}

/** The body a `GET path` answers with (query ignored), or null for 404 (sizes above 16 MiB included). */
export function bodyForPath(path: string): Buffer | null {
  if (!path.startsWith('/bytes/')) return null;
  const query = path.indexOf('?');
  const size = Number(query < 0 ? path.slice(7) : path.slice(7, query));
  if (!Number.isInteger(size) || size < 0 || size > MAX_BODY) return null;
  return patternBody(size);
}
