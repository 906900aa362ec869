/**
 * Per-backend transport settings derived from a generation's config: the timeouts are the
 * backend's upstream's resolved ones (`upstreamPolicy(...).timeouts`: its own
 * `upstream.<name>.timeouts`, else `performance`'s), TLS the upstream's resolved one (its
 * `upstream.<name>.tls` over the global `upstream_tls`, compile/upstream-tls-material.ts). Two generations naming
 * the same backend of the same upstream with equal settings share one pool (see
 * LongLivedState); `settingsKey` is that equality.
 */
import type { ClientCertificate } from './backend-connector.ts';

export interface TransportSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  /**
   * `upstream_body_total_timeout_ms`: the whole response body, from the head to its end, must
   * arrive within it, else the try fails with `upstream_timeout`. null = no separate bound.
   */
  readonly bodyTotalTimeoutMs: number | null;
  /** verify_certificates (the upstream's, else upstream_tls's); https backends only. */
  readonly verifyCertificates: boolean;
  /** PEM text of the trusted CAs (read at compile time), null = system roots. */
  readonly ca: string | null;
  /** tls.server_name: SNI and verification name; null = the backend host. */
  readonly serverName: string | null;
  /** tls.cert + tls.key PEM text (upstream mTLS); null = none. Part of the key, which is hashed, never logged. */
  readonly clientCert: ClientCertificate | null;
}

export function settingsKey(s: TransportSettings): string {
  const id = s.clientCert === null ? null : [s.clientCert.cert, s.clientCert.key];
  return JSON.stringify([s.connectTimeoutMs, s.headersTimeoutMs, s.bodyIdleTimeoutMs, s.bodyTotalTimeoutMs, s.verifyCertificates, s.ca, s.serverName, id]);
}

/**
 * One settings object per distinct settings within a generation: LongLivedState hashes a
 * settings object once (WeakMap), so backends with equal settings must share the object.
 */
export class SettingsInterner {
  readonly #byKey = new Map<string, TransportSettings>();

  intern(settings: TransportSettings): TransportSettings {
    const key = settingsKey(settings);
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    this.#byKey.set(key, settings);
    return settings;
  }
}
