/**
 * Delay before the next attempt to open the ConfigSync stream. Jittered exponential backoff:
 * base 250 ms doubling to a 10 s cap, each delay drawn from [½·d, d] so a fleet that lost its
 * control plane together does not come back together. After a GoAway the first delay is
 * drawn from [hint, 1.5·hint] (capped): never earlier than the control plane asked, and spread
 * again here so the fleet does not depend on the server's jitter alone. Pure: `random` is in [0, 1).
 */

export const RECONNECT_BASE_MS = 250;
export const RECONNECT_CAP_MS = 10_000;

/**
 * `attempt` counts failed attempts since the last Welcome (0 = first retry after a stream that
 * had been established, or after a GoAway).
 */
export function reconnectDelayMs(attempt: number, random: number, goAwayHintMs: number | null = null): number {
  if (attempt === 0 && goAwayHintMs !== null && goAwayHintMs > 0) {
    return Math.min(Math.round(goAwayHintMs + (goAwayHintMs / 2) * random), RECONNECT_CAP_MS);
  }
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
