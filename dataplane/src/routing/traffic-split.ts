/**
 * traffic_split: which upstream serves a request whose route matched. Chosen by smooth
 * weighted round-robin (nginx style) over the split's targets: deterministic (no random
 * source to inject in tests), and every window of Σweights consecutive requests holds exactly
 * `weight` requests per target, evenly interleaved (weights 3:1 → a a b a, a a b a, …).
 *
 * State is per route per generation: a generation swap restarts the sequence (at most one
 * window of skew). The split ignores the targets' health: a target whose backends are all
 * down answers 503 `no_healthy_backends` for its share rather than shifting load silently.
 */
import type { TrafficSplit } from '@spooky/config';

export interface TrafficSplitter {
  readonly targets: readonly TrafficSplit[];
  /** The upstream name for the next request. Called once per routed request. */
  pick(): string;
}

/** null when the split is empty (all traffic to the route's own upstream). */
export function createTrafficSplitter(split: readonly TrafficSplit[]): TrafficSplitter | null {
  if (split.length === 0) return null;
  const targets = split.map((t) => ({ upstream: t.upstream, weight: t.weight }));
  const first = targets[0] as TrafficSplit;
  if (targets.length === 1) return { targets, pick: () => first.upstream };
  const weights = targets.map((t) => t.weight);
  const total = weights.reduce((a, b) => a + b, 0);
  const current = new Float64Array(targets.length);
  return {
    targets,
    pick() {
      let best = 0;
      for (let i = 0; i < current.length; i++) {
        current[i] = (current[i] as number) + (weights[i] as number);
        if ((current[i] as number) > (current[best] as number)) best = i;
      }
      current[best] = (current[best] as number) - total;
      return (targets[best] as TrafficSplit).upstream;
    },
  };
}
