/**
 * Throttling of failed authentications (token guessing, or a client stuck with a revoked
 * token). Every failure counts against the source address (IPv6 by /64), against the token's
 * name when the token is known (expired), and against one global bucket; when any of them is
 * exhausted the failure is answered 429 + Retry-After instead of 401, and not counted again.
 *
 * A correct token is never throttled, also from a throttled address: the throttle applies to
 * failures (Envoy's and Kong's practice). Refusing a correct token would let whoever shares a
 * NAT, a proxy or a CI runner with the operators lock them out with a stream of bad tokens, and
 * a stuck job would block every deploy from its network. It does not weaken the protection
 * against guessing: tokens carry 256 random bits (spookyctl token create), so the throttle is
 * not what makes guessing hopeless; it bounds the cost and the log volume of trying, and makes
 * it visible (spooky_cp_auth_failures_total, spooky_cp_auth_throttled_total). The source is
 * the socket's peer address (no X-Forwarded-For: it would let the caller choose its key).
 */
import { addressKey, type BucketPolicy, FailureLimiter } from '../auth/failure-limiter.ts';

export interface AuthLimits {
  readonly perAddress: BucketPolicy;
  readonly perToken: BucketPolicy;
  readonly global: BucketPolicy;
  /** Addresses (and token names) tracked at most, each; the oldest is forgotten first. */
  readonly maxKeys: number;
}

/** 20 failures in a row per address or token, then one per 2 s; 200 in all, then 20/s. */
export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  perAddress: { burst: 20, perSecond: 0.5 },
  perToken: { burst: 20, perSecond: 0.5 },
  global: { burst: 200, perSecond: 20 },
  maxKeys: 10_000,
};

export type ThrottleScope = 'address' | 'token' | 'global';

export type FailureVerdict =
  | { readonly throttled: false }
  | { readonly throttled: true; readonly by: ThrottleScope; readonly retryAfterSeconds: number; readonly first: boolean };

const GLOBAL_KEY = '*';

export class AuthThrottle {
  readonly #address: FailureLimiter;
  readonly #token: FailureLimiter;
  readonly #global: FailureLimiter;

  constructor(limits: AuthLimits = DEFAULT_AUTH_LIMITS, now?: () => number) {
    const options = { maxKeys: limits.maxKeys, ...(now ? { now } : {}) };
    this.#address = new FailureLimiter(limits.perAddress, options);
    this.#token = new FailureLimiter(limits.perToken, options);
    this.#global = new FailureLimiter(limits.global, { ...options, maxKeys: 1 });
  }

  /** Records one failed authentication from `ip` (with the token's name when known). */
  onFailure(ip: string, tokenName?: string): FailureVerdict {
    const keys: [ThrottleScope, FailureLimiter, string][] = [
      ['address', this.#address, addressKey(ip)],
      ...(tokenName === undefined ? [] : [['token', this.#token, tokenName] as [ThrottleScope, FailureLimiter, string]]),
      ['global', this.#global, GLOBAL_KEY],
    ];
    let worst: { by: ThrottleScope; limiter: FailureLimiter; key: string; ms: number } | null = null;
    for (const [by, limiter, key] of keys) {
      const ms = limiter.retryAfterMs(key);
      if (ms > 0 && (worst === null || ms > worst.ms)) worst = { by, limiter, key, ms };
    }
    if (worst !== null) {
      return { throttled: true, by: worst.by, retryAfterSeconds: Math.max(1, Math.ceil(worst.ms / 1000)), first: worst.limiter.refused(worst.key) };
    }
    for (const [, limiter, key] of keys) limiter.consume(key);
    return { throttled: false };
  }
}
