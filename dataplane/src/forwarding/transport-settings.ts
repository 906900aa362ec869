/**
 * Per-backend transport settings derived from a generation's config. Two generations naming
 * the same backend with equal settings share one pool (see LongLivedState); `settingsKey`
 * is that equality.
 */
export interface TransportSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  /** upstream_tls.verify_certificates; https backends only. */
  readonly verifyCertificates: boolean;
  /** PEM text of upstream_tls.ca_file (read at compile time), null = system roots. */
  readonly ca: string | null;
}

export function settingsKey(s: TransportSettings): string {
  return JSON.stringify([s.connectTimeoutMs, s.headersTimeoutMs, s.bodyIdleTimeoutMs, s.verifyCertificates, s.ca]);
}
