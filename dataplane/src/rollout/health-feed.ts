/**
 * The health feed: how each serving process hands its closed per-generation health windows
 * (observability/generation-health.ts) and the candidate it holds to the primary, which sums
 * them for the control plane's Reports (fleet-health.ts) and runs the in-node canary monitor
 * (canary-monitor.ts) over the whole node — the primary holds the control-plane session, so it
 * is where a fall-back is NACKed (CanaryFallback).
 *
 * Transport: a cluster worker sends one message about once a second on the cluster IPC channel
 * (beside the worker protocol of bootstrap/worker-protocol.ts, whose readers ignore other
 * kinds); with `--no-supervise` the serving code runs in the primary's process and the same
 * message goes over the in-process diagnostics channel `spooky:rollout:health-feed`.
 */
import { channel } from 'node:diagnostics_channel';
import type { GenerationHealth } from '@spooky/proto';
import { CHANNELS } from '../telemetry/channel-names.ts';
import type { CanaryThresholds } from './in-node-canary.ts';

export const HEALTH_FEED_KIND = 'generation-health';
export const healthFeedChannel = channel(CHANNELS.rolloutHealthFeed);

/** The candidate a process holds, as the monitor needs it. */
export interface HeldReport {
  readonly candidateDigest: string;
  readonly percent: number;
  /** Absent: the control plane sent no thresholds, so there is no local check. */
  readonly thresholds?: CanaryThresholds;
  /** Digest of the serving generation beside it (the baseline), null when it has no identity. */
  readonly servingDigest: string | null;
  /** Unix ms this process first saw the candidate held; serving windows from before it are not the baseline. */
  readonly sinceMs: number;
}

export interface HealthFeedMessage {
  readonly kind: typeof HEALTH_FEED_KIND;
  readonly held: HeldReport | null;
  /** Windows closed since the previous message, oldest first. */
  readonly windows: readonly GenerationHealth[];
}

export function isHealthFeedMessage(m: unknown): m is HealthFeedMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Partial<HealthFeedMessage>;
  return r.kind === HEALTH_FEED_KIND && Array.isArray(r.windows) && (r.held === null || typeof r.held === 'object');
}
