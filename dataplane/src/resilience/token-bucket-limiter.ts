/**
 * Scoped rate limits (`resilience.scoped_rate_limits[]`): one token bucket per rule and key
 * (`requests_per_sec` refill, `burst` size, starting full). A request takes one token from
 * every rule that applies to its upstream (`route_allowlist`, empty = all); the first empty
 * bucket refuses it (429 `rate_limited` + `Retry-After`, counted by rule). A rule in shadow
 * mode (ours) never refuses: its verdict is `would_limit`, only counted.
 *
 * Keys (`rateLimitKey`): scope route → the upstream name; client → the client address unless
 * `key` says otherwise; token → the bearer token unless `key`; tenant → `key` (required). A
 * request without the key's value (no such header, no token) is not limited by that rule.
 *
 * Memory is bounded per rule: buckets idle for `idle_ttl_secs` are evicted (swept at most
 * once a second), and at most `maxBuckets` (default 65 536) are kept, least recently used
 * evicted first. Recency is a Map in touch order at 1-s granularity: a key is moved to the end
 * only when its last move is over a second old, so a hot key costs one lookup, not a
 * delete + set per request.
 * Cost per request and rule: one key lookup and a little arithmetic; one small object per new
 * key; eviction amortised O(1). Clock injected (ms).
 */
import type { ScopedRateLimit } from '@spooky/config';

export type RateLimitVerdict = 'allow' | 'limit' | 'would_limit';

/** What key specs read from a request. Header names are lowercase. */
export interface RateLimitRequest {
  readonly upstream: string;
  readonly clientIp: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly connectionId: string | null;
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
  query(name: string): string | undefined;
}

export const DEFAULT_MAX_BUCKETS = 65_536;

interface Bucket {
  tokens: number;
  /** Last refill. */
  last: number;
  /** When it was last moved to the end of the recency order. */
  touched: number;
}

const TOUCH_MS = 1000;

/** The bearer token of an `authorization` header, or undefined. */
export function bearerToken(req: RateLimitRequest): string | undefined {
  const auth = req.header('authorization');
  if (auth === undefined || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = auth.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/** The bucket key of `req` under `rule`; undefined when the request lacks it (the rule does not apply). */
export function rateLimitKey(rule: ScopedRateLimit, req: RateLimitRequest): string | undefined {
  const spec = rule.key;
  if (spec === null) {
    if (rule.scope === 'route') return req.upstream;
    if (rule.scope === 'client') return req.clientIp;
    if (rule.scope === 'token') return bearerToken(req);
    return undefined;
  }
  switch (spec) {
    case 'path':
      return req.path;
    case 'authority':
      return req.authority;
    case 'method':
      return req.method;
    case 'cid':
    case 'sticky-cid':
      return req.connectionId ?? undefined;
    case 'peer_ip':
    case 'client_ip':
      return req.clientIp;
    case 'bearer_token':
      return bearerToken(req);
  }
  const colon = spec.indexOf(':');
  const name = spec.slice(colon + 1);
  switch (spec.slice(0, colon)) {
    case 'header':
      return req.header(name);
    case 'cookie':
      return req.cookie(name);
    case 'query':
      return req.query(name);
  }
  return undefined;
}

/** One rule's buckets. */
export class TokenBucketLimiter {
  #rule: ScopedRateLimit;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxBuckets: number;
  #sweptAt = Number.NEGATIVE_INFINITY;
  /** Seconds until a token is back; valid after a `limit` / `would_limit` verdict. */
  retryAfterSeconds = 0;

  constructor(rule: ScopedRateLimit, maxBuckets: number = DEFAULT_MAX_BUCKETS) {
    this.#rule = rule;
    this.#maxBuckets = maxBuckets;
  }

  get rule(): ScopedRateLimit {
    return this.#rule;
  }

  /** A new generation's version of the rule (same name): saved tokens are kept up to the new burst. */
  reconfigure(rule: ScopedRateLimit): void {
    this.#rule = rule;
  }

  applies(upstream: string): boolean {
    const list = this.#rule.route_allowlist;
    return list.length === 0 || list.includes(upstream);
  }

  /** Takes a token for `key` at `now` (ms). */
  take(key: string, now: number): RateLimitVerdict {
    const rule = this.#rule;
    if (now - this.#sweptAt >= TOUCH_MS) this.#evictIdle(now);
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxBuckets) this.#evictOldest();
      b = { tokens: rule.burst, last: now, touched: now };
      this.#buckets.set(key, b);
    } else {
      const elapsed = now - b.last;
      if (elapsed > 0) {
        b.tokens = Math.min(rule.burst, b.tokens + (elapsed * rule.requests_per_sec) / 1000);
        b.last = now;
      } else {
        b.tokens = Math.min(rule.burst, b.tokens);
      }
      if (now - b.touched >= TOUCH_MS) {
        this.#buckets.delete(key); // to the end: most recently used last
        this.#buckets.set(key, b);
        b.touched = now;
      }
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'allow';
    }
    this.retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / rule.requests_per_sec));
    return rule.shadow ? 'would_limit' : 'limit';
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Whether `key` has a bucket (tests, diagnostics). */
  has(key: string): boolean {
    return this.#buckets.has(key);
  }

  /** From the front (least recently touched) while idle; the order is by `touched`, so one fresh entry stops the sweep. */
  #evictIdle(now: number): void {
    this.#sweptAt = now;
    const ttlMs = this.#rule.idle_ttl_secs * 1000;
    for (const [key, b] of this.#buckets) {
      if (now - b.touched < ttlMs) return;
      this.#buckets.delete(key);
    }
  }

  #evictOldest(): void {
    for (const key of this.#buckets.keys()) {
      this.#buckets.delete(key);
      return;
    }
  }
}

export type RateLimitDecision =
  | { readonly verdict: 'allow' }
  | { readonly verdict: 'limit'; readonly rule: string; readonly retryAfterSeconds: number };

const ALLOW: RateLimitDecision = Object.freeze({ verdict: 'allow' });

/**
 * Every rule of a generation, in config order. `check` applies them all to one request; shadow
 * refusals are reported through `onShadow(rule)` (for `spooky_request_rate_limited{mode="shadow"}`).
 * `reconfigure` keeps buckets of rules whose name stays (state survives swaps), drops the rest.
 */
export class ScopedRateLimiters {
  #limiters: TokenBucketLimiter[] = [];
  readonly #maxBuckets: number;

  constructor(rules: readonly ScopedRateLimit[], maxBuckets: number = DEFAULT_MAX_BUCKETS) {
    this.#maxBuckets = maxBuckets;
    this.reconfigure(rules);
  }

  reconfigure(rules: readonly ScopedRateLimit[]): void {
    const byName = new Map(this.#limiters.map((l) => [l.rule.name, l]));
    this.#limiters = rules.map((rule) => {
      const kept = byName.get(rule.name);
      if (kept === undefined || kept.rule.scope !== rule.scope || kept.rule.key !== rule.key) return new TokenBucketLimiter(rule, this.#maxBuckets);
      kept.reconfigure(rule);
      return kept;
    });
  }

  get limiters(): readonly TokenBucketLimiter[] {
    return this.#limiters;
  }

  check(req: RateLimitRequest, now: number, onShadow?: (rule: string) => void): RateLimitDecision {
    for (const limiter of this.#limiters) {
      if (!limiter.applies(req.upstream)) continue;
      const key = rateLimitKey(limiter.rule, req);
      if (key === undefined) continue;
      const verdict = limiter.take(key, now);
      if (verdict === 'limit') return { verdict: 'limit', rule: limiter.rule.name, retryAfterSeconds: limiter.retryAfterSeconds };
      if (verdict === 'would_limit') onShadow?.(limiter.rule.name);
    }
    return ALLOW;
  }
}
