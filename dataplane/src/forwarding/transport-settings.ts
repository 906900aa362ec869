/**
 * Per-backend transport settings derived from a generation's config: the timeouts are the
 * backend's upstream's resolved ones (`upstreamPolicy(...).timeouts`: its own
 * `upstream.<name>.timeouts`, else `performance`'s), TLS is global. Two generations naming
 * the same backend of the same upstream with equal settings share one pool (see
 * LongLivedState); `settingsKey` is that equality.
 */
export interface TransportSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  /**
   * `upstream_body_total_timeout_ms`: the whole response body, from the head to its end, must
   * arrive within it, else the try fails with `upstream_timeout`. null = no separate bound.
   */
  readonly bodyTotalTimeoutMs: number | null;
  /** upstream_tls.verify_certificates; https backends only. */
  readonly verifyCertificates: boolean;
  /** PEM text of upstream_tls.ca_file (read at compile time), null = system roots. */
  readonly ca: string | null;
}

export function settingsKey(s: TransportSettings): string {
  return JSON.stringify([s.connectTimeoutMs, s.headersTimeoutMs, s.bodyIdleTimeoutMs, s.bodyTotalTimeoutMs, s.verifyCertificates, s.ca]);
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
