/**
 * Normalized forwarding header policies (defaults filled; see normalize-forwarding.ts and
 * the README's configuration reference).
 */

export type ForwardedMode = 'overwrite' | 'append' | 'preserve';
export type HostPolicy = 'pass_through' | 'rewrite' | 'upstream';

export interface ForwardedHeaders {
  readonly mode: ForwardedMode;
  /** CIDRs as written (validated by parseCidr); empty = no peer is trusted. */
  readonly trusted_proxies: readonly string[];
  /** Via pseudonym; false = no Via added (false, not null: the canonical form drops nulls). */
  readonly via: string | false;
}

export interface Tracing {
  readonly enabled: boolean;
  /** 0–100: share of generated trace ids with the sampled flag. */
  readonly sample_percent: number;
}
