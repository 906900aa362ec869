/**
 * How Spooky opens a connection to one backend, shared by the traffic transport
 * (undici-transport.ts) and the health prober (undici-prober.ts) so probes see the backend
 * exactly as traffic does: same connect timeout, certificate verification, CA and SNI.
 *
 * TLS identity is the backend's, never the client's: the connector pins SNI to the upstream's
 * `tls.server_name` when given, else to the backend hostname (none for IP literals, which are
 * then verified against IP SANs). node:tls verifies the certificate against the SNI name when
 * one is sent, so `server_name` is also the verification name. A client certificate
 * (`tls.cert` + `tls.key`, upstream mTLS) is presented on every connection.
 */
import { isIP } from 'node:net';
import { buildConnector } from 'undici';

/** PEM text of a client certificate chain and its private key (a secret: never log it). */
export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface BackendConnectSettings {
  readonly connectTimeoutMs: number;
  readonly verifyCertificates: boolean;
  readonly ca: string | null;
  /** SNI and verification name; null or absent = the backend host. */
  readonly serverName?: string | null;
  /** Presented to HTTPS backends (upstream mTLS); null or absent = none. */
  readonly clientCert?: ClientCertificate | null;
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
  const sni = settings.serverName ?? (isIP(hostname) === 0 ? hostname : undefined);
  const clientCert = https ? (settings.clientCert ?? null) : null;
  const connector = buildConnector({
    timeout: settings.connectTimeoutMs,
    allowH2: https,
    preferH2: https,
    ...(https ? { rejectUnauthorized: settings.verifyCertificates } : {}),
    ...(https && settings.ca !== null ? { ca: settings.ca } : {}),
    ...(clientCert !== null ? { cert: clientCert.cert, key: clientCert.key } : {}),
  });
  return {
    https,
    hostname,
    connect: (options, callback) => connector({ ...options, servername: sni as string }, callback),
  };
}
