import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createLogger } from './logger.ts';
import { logTime } from './log-time.ts';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('logTime', () => {
  it('is JSON.stringify(toISOString()) at every millisecond digit, second and year boundary', () => {
    const instants = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1700000000000, 1700000000009, 1700000000099, 1700000000999, 1700000001000, 253402300799999];
    for (let i = 0; i < 2000; i++) instants.push(Math.floor(Math.random() * 253402300799999));
    for (const ms of instants) assert.equal(logTime(ms), JSON.stringify(new Date(ms).toISOString()), String(ms));
  });

  it('gives the same text for the same millisecond, also after going back in time', () => {
    const a = logTime(1796306400123);
    assert.equal(logTime(1796306400123), a);
    assert.equal(logTime(1796306399999), '"2026-12-03T13:59:59.999Z"');
    assert.equal(logTime(1796306400123), '"2026-12-03T14:00:00.123Z"');
  });
});

describe('the data-plane logger', () => {
  it('writes `time` as ISO 8601 UTC with milliseconds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-log-time-'));
    try {
      const file = join(dir, 'out.log');
      const before = Date.now();
      const logger = createLogger('info', pino.destination({ dest: file, sync: true }));
      logger.info({ k: 1 }, 'hello');
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
      assert.equal(line['msg'], 'hello');
      assert.equal(typeof line['time'], 'string');
      assert.match(line['time'] as string, ISO_MS);
      const at = Date.parse(line['time'] as string);
      assert.ok(at >= before && at <= Date.now(), 'the time of the write');
      assert.deepEqual(Object.keys(line).slice(0, 4), ['level', 'time', 'service', 'pid'], 'the field order the access log copies');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
