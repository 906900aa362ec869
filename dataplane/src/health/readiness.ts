/**
 * Pure: whether the served generation can serve anything, as far as health is concerned.
 * Used by the admin server's /ready (503 while nothing is served, or while every backend of
 * every upstream is unavailable).
 */

export interface ReadinessUpstream {
  readonly name: string;
  readonly backends: readonly { readonly address: string }[];
}

/** null when at least one backend is available; otherwise why not, for the /ready body. */
export function healthUnreadyReason(
  upstreams: Iterable<ReadinessUpstream>,
  isAvailable: (upstream: string, address: string) => boolean,
): string | null {
  let total = 0;
  for (const upstream of upstreams) {
    for (const backend of upstream.backends) {
      total++;
      if (isAvailable(upstream.name, backend.address)) return null;
    }
  }
  if (total === 0) return null;
  return `every backend is unavailable (${total} of ${total} unhealthy or ejected)`;
}
