/**
 * Every node:diagnostics_channel name the data plane publishes on, in one place. Publishers
 * (pipeline, ingress, health, mirroring, barrier, routing, rollout) and subscribers
 * (observability/, tests) import the name from here, so a renamed or new channel is one edit and
 * a subscriber cannot listen on a misspelt name. This module imports nothing: every layer may
 * depend on it without a cycle.
 *
 * Each channel's payload type lives beside its publisher (named in the comments below).
 */
export const CHANNELS = {
  /** RequestEndEvent (pipeline/events.ts): exactly once per request, pipeline or ingress answered. */
  requestEnd: 'spooky:request:end',
  /** HealthTransitionEvent (health/health-events.ts): one backend changed health status. */
  healthTransition: 'spooky:health:transition',
  /** HealthMembershipEvent (health/health-events.ts): a backend started or stopped being tracked. */
  healthMembership: 'spooky:health:membership',
  /** MirrorEvent (mirroring/mirror-events.ts): one mirror decision. */
  mirror: 'spooky:mirror',
  /** InternalErrorEvent (barrier/internal-error.ts): the crash barrier contained an error. */
  internalError: 'spooky:internal:error',
  /** RouteTraceEvent (routing/route-trace.ts): one routing decision (debug trace). */
  route: 'spooky:route',
  /** The per-generation health feed of a `--no-supervise` process (rollout/health-feed.ts). */
  rolloutHealthFeed: 'spooky:rollout:health-feed',
} as const;

export type ChannelName = (typeof CHANNELS)[keyof typeof CHANNELS];

/** Every channel name, for the test that no `spooky:*` literal lives outside this file. */
export const CHANNEL_NAMES: readonly ChannelName[] = Object.values(CHANNELS);
