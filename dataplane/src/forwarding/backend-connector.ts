/**
 * How Spooky opens a connection to one backend, shared by the traffic transport
 * (undici-transport.ts) and the health prober (undici-prober.ts) so probes see the backend
 * exactly as traffic does: same connect timeout, certificate verification, CA and SNI.
 *
 * TLS identity is the backend's, never the client's: the connector pins SNI to the backend
 * hostname (none for IP literals, which are verified against IP SANs).
 */
import { isIP } from 'node:net';
import { buildConnector } from 'undici';

export interface BackendConnectSettings {
  readonly connectTimeoutMs: number;
  readonly verifyCertificates: boolean;
  readonly ca: string | null;
}

export interface BackendConnection {
  readonly https: boolean;
  /** Hostname without IPv6 brackets; pass it as every request's `servername`. */
  readonly hostname: string;
  /** undici `connect` option. */
  readonly connect: buildConnector.connector;
}

export function backendConnection(address: string, settings: BackendConnectSettings): BackendConnection {
  const https = address.startsWith('https://');
  const url = new URL(address);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const sni = isIP(hostname) === 0 ? hostname : undefined;
  const connector = buildConnector({
    timeout: settings.connectTimeoutMs,
    allowH2: https,
    preferH2: https,
    ...(https ? { rejectUnauthorized: settings.verifyCertificates } : {}),
    ...(https && settings.ca !== null ? { ca: settings.ca } : {}),
  });
  return {
    https,
    hostname,
    connect: (options, callback) => connector({ ...options, servername: sni as string }, callback),
  };
}
