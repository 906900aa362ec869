/**
 * Debug-only telemetry that follows the logger's level live: `start` runs (subscribing to its
 * diagnostics channel) while `level` is enabled and its stop runs when the level rises above
 * it — on pino's `level-change` event, so a generation's `log.level: debug` turns the route
 * trace and the mirror log on without a restart, and `warn` turns them off again. A request
 * pays nothing for this: no level lookup, only the channel's `hasSubscribers` check its
 * publisher already makes.
 */
import type { Level, Logger } from 'pino';

/** Keeps `start`'s work running exactly while `logger` enables `level`; returns the stop of it all. */
export function whileLevelEnabled(logger: Logger, level: Level, start: () => () => void): () => void {
  let stop: (() => void) | null = null;
  const sync = (): void => {
    const enabled = logger.isLevelEnabled(level);
    if (enabled && stop === null) stop = start();
    else if (!enabled && stop !== null) {
      stop();
      stop = null;
    }
  };
  sync();
  logger.on('level-change', sync);
  return () => {
    logger.removeListener('level-change', sync);
    stop?.();
    stop = null;
  };
}
