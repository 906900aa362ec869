/**
 * The "health transition" log line: one info line per status change of a backend, with
 * upstream, backend id, address, from → to, reason and the observation behind it. The
 * HealthMonitor publishes (health-events.ts); this only subscribes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type pino from 'pino';
import { CHANNELS } from '../telemetry/channel-names.ts';
import type { HealthTransitionEvent } from './health-events.ts';

/** Starts logging transitions; the returned function stops it. */
export function startHealthLog(logger: pino.Logger): () => void {
  const onTransition = (message: unknown): void => {
    const e = message as HealthTransitionEvent;
    logger.info(
      { upstream: e.upstream, backend: e.backend, address: e.address, from: e.from, to: e.to, reason: e.reason, detail: e.detail, mode: e.mode },
      'health transition',
    );
  };
  subscribe(CHANNELS.healthTransition, onTransition);
  return () => {
    unsubscribe(CHANNELS.healthTransition, onTransition);
  };
}
