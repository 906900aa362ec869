import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { mirrorChannel, startMirrorLog } from '../mirroring/mirror-events.ts';
import { routeTraceChannel, startRouteTrace } from '../routing/route-trace.ts';
import { whileLevelEnabled } from './level-gate.ts';

function quietLogger(level: pino.Level): pino.Logger {
  return pino({ level }, new Writable({ write: (_c, _e, cb) => cb() }));
}

describe('whileLevelEnabled', () => {
  it('runs while the level is enabled, following every level change, and stops for good on stop', () => {
    const logger = quietLogger('info');
    const events: string[] = [];
    const stop = whileLevelEnabled(logger, 'debug', () => {
      events.push('start');
      return () => events.push('stop');
    });
    assert.deepEqual(events, [], 'not started at info');
    logger.level = 'debug';
    logger.level = 'trace';
    assert.deepEqual(events, ['start'], 'started once, trace includes debug');
    logger.level = 'warn';
    assert.deepEqual(events, ['start', 'stop']);
    logger.level = 'debug';
    stop();
    assert.deepEqual(events, ['start', 'stop', 'start', 'stop']);
    logger.level = 'info';
    logger.level = 'debug';
    assert.equal(events.length, 4, 'nothing after stop');
  });

  it('turns the route trace and the mirror log on and off live (serving-worker.ts starts both at info)', () => {
    const logger = quietLogger('info');
    const stops = [startRouteTrace(logger), startMirrorLog(logger)];
    assert.deepEqual([routeTraceChannel.hasSubscribers, mirrorChannel.hasSubscribers], [false, false]);
    logger.level = 'debug';
    assert.deepEqual([routeTraceChannel.hasSubscribers, mirrorChannel.hasSubscribers], [true, true]);
    logger.level = 'warn';
    assert.deepEqual([routeTraceChannel.hasSubscribers, mirrorChannel.hasSubscribers], [false, false]);
    logger.level = 'debug';
    for (const stop of stops) stop();
    assert.deepEqual([routeTraceChannel.hasSubscribers, mirrorChannel.hasSubscribers], [false, false], 'stopped at debug');
  });
});
