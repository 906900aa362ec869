/**
 * Builds the Balancer an upstream's `load_balancing.type` names. Called by compile/ once per
 * upstream per generation.
 */
import type { LbType } from '@spooky/config';
import type { Balancer, RandomSource, WeightedBackend } from './balancer.ts';
import { createRandom } from './random.ts';
import { createRoundRobin, type RoundRobinState } from './round-robin.ts';

export interface BalancerDeps {
  /** Round-robin cursor for this upstream, from LongLivedState. */
  readonly roundRobinState: () => RoundRobinState;
  readonly random?: RandomSource;
}

export function createBalancer(type: LbType, backends: readonly WeightedBackend[], deps: BalancerDeps): Balancer {
  switch (type) {
    case 'round-robin':
      return createRoundRobin(backends, deps.roundRobinState());
    case 'random':
      return createRandom(backends, deps.random);
    default:
      // Policies being added in issue 3; compile refuses them until their balancer exists.
      throw new Error(`load_balancing.type ${type} is not supported by this data plane yet`);
  }
}
