import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.ts';

describe('control-plane logger', () => {
  it('writes `time` as ISO 8601 UTC with milliseconds, like the data plane', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const before = Date.now();
    createLogger({ destination }).info({ token: 'secret-value' }, 'hello');
    const line = JSON.parse(lines.join('').trim()) as Record<string, unknown>;
    assert.equal(line['msg'], 'hello');
    assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const at = Date.parse(String(line['time']));
    assert.ok(at >= before && at <= Date.now(), 'the time of the write');
    assert.equal(line['token'], '[redacted]');
  });
});
