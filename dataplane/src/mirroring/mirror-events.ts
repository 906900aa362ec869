/**
 * Mirror telemetry: one `spooky:mirror` event per mirror decision other than "route has no
 * mirror" — sent, skipped, finished or failed. Mirrors never touch the client's response, so
 * their failures exist only here: observability may count them (metrics subscribe), and
 * `startMirrorLog` logs them at debug.
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { whileLevelEnabled } from '../observability/level-gate.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';

export interface MirrorEvent {
  readonly requestId: string;
  /** The route's upstream (owner of the mirror setting). */
  readonly route: string;
  /** The mirror upstream. */
  readonly upstream: string;
  /**
   * `ok` (mirror answered; its body was drained and discarded), `error:<code>` (SpookyError
   * code of the failure), or `skipped:body` | `skipped:sampled` | `skipped:busy` |
   * `skipped:no_backend`.
   */
  readonly outcome: string;
  /** The mirror's response status when it answered. */
  readonly status: number | null;
}

export const MIRROR_CHANNEL = CHANNELS.mirror;
export const mirrorChannel = channel(MIRROR_CHANNEL);

export function publishMirror(event: MirrorEvent): void {
  if (mirrorChannel.hasSubscribers) mirrorChannel.publish(event);
}

/**
 * Logs mirror failures and skips (not `ok` or `skipped:sampled`) at debug, subscribed only while
 * `logger` is at debug (following level changes live); returns the unsubscriber.
 */
export function startMirrorLog(logger: Logger): () => void {
  return whileLevelEnabled(logger, 'debug', () => subscribeMirrorLog(logger));
}

function subscribeMirrorLog(logger: Logger): () => void {
  const onEvent = (message: unknown) => {
    const e = message as MirrorEvent;
    if (e.outcome === 'ok' || e.outcome === 'skipped:sampled') return;
    logger.debug({ requestId: e.requestId, route: e.route, mirror: e.upstream, outcome: e.outcome, status: e.status }, 'mirror not delivered');
  };
  subscribe(MIRROR_CHANNEL, onEvent);
  return () => unsubscribe(MIRROR_CHANNEL, onEvent);
}
