/**
 * Builds the Balancer an upstream's `load_balancing` names. Called by compile/ once per
 * upstream per generation; every LbType of the config schema has a policy.
 */
import type { LoadBalancing } from '@spooky/config';
import type { BackendStats } from '../runtime/backend-stats.ts';
import type { Balancer, RandomSource, WeightedBackend } from './balancer.ts';
import { createConsistentHash } from './consistent-hash.ts';
import { createLatencyAware } from './latency-aware.ts';
import { createLeastConnections } from './least-connections.ts';
import { createRandom } from './random.ts';
import { createRoundRobin, type RoundRobinState } from './round-robin.ts';

export interface BalancerDeps {
  /** Round-robin cursor for this upstream, from LongLivedState (asked only for round-robin). */
  readonly roundRobinState: () => RoundRobinState;
  /** Live stats per backend index (same order as `backends`), from LongLivedState. */
  readonly backendStats: readonly BackendStats[];
  readonly random?: RandomSource;
}

export function createBalancer(lb: LoadBalancing, backends: readonly WeightedBackend[], deps: BalancerDeps): Balancer {
  switch (lb.type) {
    case 'round-robin':
      return createRoundRobin(backends, deps.roundRobinState());
    case 'random':
      return createRandom(backends, deps.random);
    case 'consistent-hash':
      return createConsistentHash(backends, lb.key, 'consistent-hash');
    case 'sticky-cid':
      return createConsistentHash(backends, null, 'sticky-cid');
    case 'least-connections':
      return createLeastConnections(backends, deps.backendStats);
    case 'latency-aware':
      return createLatencyAware(deps.backendStats);
  }
}
