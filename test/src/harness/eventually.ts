/**
 * Bounded polling for state another process owns (a node's serving generation, a rollout's
 * status): `probe` runs every `everyMs` until it returns a value other than undefined, which
 * is the result; after `timeoutMs` it rejects with `what` and the last value seen. A poll is a
 * bounded wait on observable state, never a sleep standing in for an event.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; everyMs?: number; last?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) {
      const last = opts.last ? ` (last: ${JSON.stringify(opts.last())})` : '';
      throw new Error(`timed out after ${opts.timeoutMs ?? 20_000} ms: ${what}${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.everyMs ?? 100));
  }
}
