/**
 * Behavioural diff: where each sample request goes before and after a config change, decided
 * by the reference router (route-reference.ts). Answers "which of these requests would move?"
 * for a planned activation without running a data plane.
 */
import { type ProbeRequest, referenceResolver } from './route-reference.ts';
import type { Config } from './types.ts';

/** Most sample requests one behavioural diff takes (the REST API enforces it too). */
export const MAX_BEHAVIOUR_REQUESTS = 1000;

/** Where one request goes: the upstream owning the matched route, or null for no route (404). */
export type RoutedTo = { readonly upstream: string } | null;

export interface BehaviourResult {
  readonly request: ProbeRequest;
  readonly before: RoutedTo;
  readonly after: RoutedTo;
  /** True when the request resolves to a different upstream, or gains or loses its route. */
  readonly changed: boolean;
}

/**
 * One result per request, in request order. `null` for a side means "no config" (nothing
 * active yet): every request resolves to null there. Throws RangeError above
 * MAX_BEHAVIOUR_REQUESTS.
 */
export function behaviourDiff(from: Config | null, to: Config | null, requests: readonly ProbeRequest[]): BehaviourResult[] {
  if (requests.length > MAX_BEHAVIOUR_REQUESTS) {
    throw new RangeError(`at most ${MAX_BEHAVIOUR_REQUESTS} requests, got ${requests.length}`);
  }
  const resolveBefore = from === null ? () => null : referenceResolver(from);
  const resolveAfter = to === null ? () => null : referenceResolver(to);
  return requests.map((request) => {
    const b = resolveBefore(request);
    const a = resolveAfter(request);
    return { request, before: b === null ? null : { upstream: b }, after: a === null ? null : { upstream: a }, changed: a !== b };
  });
}
