/**
 * The connection-level limits of one generation, as ingress uses them (a projection of the
 * config's `performance` section). Listeners read them when a connection arrives, so a new
 * generation applies to new connections; timers already running keep the bound they
 * started with.
 */
import { DEFAULTS, type Performance } from '@spooky/config';

export interface ConnectionLimits {
  readonly tlsHandshakeTimeoutMs: number;
  readonly clientHeaderTimeoutMs: number;
  readonly clientIdleTimeoutMs: number;
  readonly maxActiveConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly newConnectionsPerSec: number;
  readonly newConnectionsBurst: number;
  /** `max_request_header_bytes`: the protocol layers refuse header blocks well above it. */
  readonly maxRequestHeaderBytes: number;
  readonly maxRequestHeaders: number;
}

export function connectionLimitsOf(p: Performance): ConnectionLimits {
  return {
    tlsHandshakeTimeoutMs: p.tls_handshake_timeout_ms,
    clientHeaderTimeoutMs: p.client_header_timeout_ms,
    clientIdleTimeoutMs: p.client_idle_timeout_ms,
    maxActiveConnections: p.max_active_connections,
    maxConnectionsPerIp: p.max_connections_per_ip,
    newConnectionsPerSec: p.new_connections_per_sec,
    newConnectionsBurst: p.new_connections_burst,
    maxRequestHeaderBytes: p.max_request_header_bytes,
    maxRequestHeaders: p.max_request_headers,
  };
}

/** The config defaults (used until a generation says otherwise). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  tlsHandshakeTimeoutMs: DEFAULTS.tlsHandshakeTimeoutMs,
  clientHeaderTimeoutMs: DEFAULTS.clientHeaderTimeoutMs,
  clientIdleTimeoutMs: DEFAULTS.clientIdleTimeoutMs,
  maxActiveConnections: DEFAULTS.maxActiveConnections,
  maxConnectionsPerIp: DEFAULTS.maxConnectionsPerIp,
  newConnectionsPerSec: DEFAULTS.newConnectionsPerSec,
  newConnectionsBurst: DEFAULTS.newConnectionsBurst,
  maxRequestHeaderBytes: DEFAULTS.maxRequestHeaderBytes,
  maxRequestHeaders: DEFAULTS.maxRequestHeaders,
};

/**
 * The header-block bound given to node:http2 (SETTINGS_MAX_HEADER_LIST_SIZE, enforced by node
 * before headers reach JS) and to node's HTTP/1.1 parser. Twice the configured bytes plus
 * HPACK's 32-byte per-field overhead: blocks a little over the limit still reach the
 * screening step and get its 431; blocks far over it are refused by the protocol layer
 * (HTTP/2: the stream is reset; HTTP/1.1: node answers 431) without being decoded into JS.
 */
export function protocolHeaderBound(limits: ConnectionLimits): number {
  return 2 * limits.maxRequestHeaderBytes + 32 * limits.maxRequestHeaders;
}
