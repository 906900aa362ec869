/**
 * The closed vocabulary of hedging (`spooky_hedges_total{upstream,result}`, the access log's
 * hedge field). A request whose hedge timer fired ends with exactly one of these; a request
 * whose first try answered (or failed) before `delay_ms` has none.
 *  - `won`: the hedge was sent and its response head came first (the first try was cancelled);
 *  - `lost`: the hedge was sent and the first try's head came first (the hedge was cancelled);
 *  - `failed`: the hedge was sent and neither try produced a head;
 *  - `refused_budget` / `refused_brownout` / `refused_deadline` / `no_alternate`: not sent,
 *    because the retry budget is spent, brownout is on, less than `delay_ms` is left before
 *    the request deadline, or no other backend could take it (healthy, breaker available,
 *    backend cap free, not tried).
 * `sent` is counted in the metric for every hedge sent (so sent = won + lost + failed).
 */
export const HEDGE_RESULTS = ['won', 'lost', 'failed', 'refused_budget', 'refused_brownout', 'refused_deadline', 'no_alternate'] as const;
export type HedgeResult = (typeof HEDGE_RESULTS)[number];

/** Why a hedge was not sent. */
export type HedgeRefusal = Extract<HedgeResult, `refused_${string}` | 'no_alternate'>;

/** True when a hedge was actually dispatched. */
export function hedgeSent(result: HedgeResult | null): boolean {
  return result === 'won' || result === 'lost' || result === 'failed';
}
