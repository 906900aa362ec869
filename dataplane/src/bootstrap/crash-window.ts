/**
 * The supervisor's restart policy (pure): a worker that exits unasked is restarted after a
 * backoff that doubles with each exit in the window (RESTART_BASE_MS, 2×, 4×, … capped at
 * RESTART_MAX_MS); the MAX_CRASHES-th exit within WINDOW_MS is a crash loop and the
 * supervisor gives up (exit 1, so systemd's Restart=on-failure takes over with its own pacing).
 *
 * Chosen: 5 exits in 60 s. A poisonous generation costs one exit (the restarted process
 * refuses it, cache/apply-journal.ts), so 5 means something that a restart does not cure.
 */
export const MAX_CRASHES = 5;
export const WINDOW_MS = 60_000;
export const RESTART_BASE_MS = 100;
export const RESTART_MAX_MS = 5_000;

export type CrashVerdict = { readonly kind: 'restart'; readonly delayMs: number; readonly recent: number } | { readonly kind: 'give-up'; readonly recent: number };

export class CrashWindow {
  readonly #at: number[] = [];
  readonly #max: number;
  readonly #windowMs: number;

  constructor(max = MAX_CRASHES, windowMs = WINDOW_MS) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Records an unasked exit at `nowMs` and says what to do. */
  record(nowMs: number): CrashVerdict {
    this.#at.push(nowMs);
    while (this.#at.length > 0 && (this.#at[0] as number) <= nowMs - this.#windowMs) this.#at.shift();
    const recent = this.#at.length;
    if (recent >= this.#max) return { kind: 'give-up', recent };
    return { kind: 'restart', delayMs: Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (recent - 1)), recent };
  }
}
