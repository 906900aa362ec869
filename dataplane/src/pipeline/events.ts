/**
 * The pipeline's telemetry contract: the runner publishes closed-vocabulary events on
 * node:diagnostics_channel; observability/ (access log, metrics) subscribes. No stage logs or
 * counts by itself.
 */
import { channel } from 'node:diagnostics_channel';
import type { ClientProtocol } from '../http/exchange.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';

/** Published exactly once per request, after the response finished or failed. */
export interface RequestEndEvent {
  readonly requestId: string;
  /** W3C trace id (32 hex) sent upstream, or the valid inbound one of a request never forwarded; null when none / tracing off. */
  readonly traceId: string | null;
  readonly protocol: ClientProtocol;
  readonly method: string;
  readonly host: string | null;
  readonly path: string;
  readonly generationSeq: number;
  /** The matched route, named by the upstream that owns it in the config; null when no route matched. */
  readonly route: string | null;
  /**
   * The upstream whose backends served the request: the route's own, or its traffic_split pick;
   * null when no route matched.
   */
  readonly upstream: string | null;
  /** Backend id of the attempt whose response was relayed, null when none. */
  readonly backend: string | null;
  readonly status: number;
  /** `ok` or a closed reason such as `no_route`, `upstream:connect_failed`, `client:aborted`. */
  readonly outcome: string;
  readonly attempts: number;
  readonly durationMs: number;
  /** Time to the upstream's response head, null when there was none. */
  readonly upstreamHeadersMs: number | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Why the last failed try was not retried (RETRY_REFUSALS), null when no retry was refused. */
  readonly retryRefusal?: string | null;
  /** A hedge was sent (a second try raced the first: HEDGE_RESULTS won | lost | failed). */
  readonly hedged?: boolean;
  /** HEDGE_RESULTS value when the hedge delay passed (sent or refused), else null. */
  readonly hedge?: string | null;
  /** SHED_REASONS value when the request was shed (503), else null. */
  readonly shed?: string | null;
  /** Rate-limit rule that refused (mode enforce) or would have (mode shadow); null when none. */
  readonly rateLimitRule?: string | null;
  readonly rateLimitMode?: 'enforce' | 'shadow' | null;
}

export const requestEndChannel = channel(CHANNELS.requestEnd);

export function publishRequestEnd(event: RequestEndEvent): void {
  if (requestEndChannel.hasSubscribers) requestEndChannel.publish(event);
}
