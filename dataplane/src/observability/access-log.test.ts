import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { publishRequestEnd, type RequestEndEvent } from '../pipeline/events.ts';
import { startAccessLog } from './access-log.ts';
import { accessLogLine } from './access-log-line.ts';
import { logTime } from './log-time.ts';

const EVENT: RequestEndEvent = {
  requestId: 'abc-1',
  traceId: null,
  protocol: 'h3',
  method: 'GET',
  host: 'a.example',
  path: '/x?y=1',
  generationSeq: 3,
  route: 'web',
  upstream: 'web-canary',
  backend: null,
  status: 200,
  outcome: 'ok',
  attempts: 1,
  durationMs: 1.5,
  upstreamHeadersMs: null,
  bytesIn: 0,
  bytesOut: 10,
};

function pinoLine(event: RequestEndEvent, time: number): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  // pino's own ISO timestamp, the control plane's (pino.stdTimeFunctions.isoTime at `time`).
  const logger = pino({ base: { service: 'spooky-dataplane', pid: 42 }, timestamp: () => `,"time":"${new Date(time).toISOString()}"` }, sink);
  logger.info(event, 'request');
  return out;
}

describe('access log', () => {
  it('writes the same line pino would, byte for byte, including hostile strings', async () => {
    const bindings = ',"service":"spooky-dataplane","pid":42';
    const hostile: RequestEndEvent = { ...EVENT, host: 'a"b\\c', path: '/\u0000\u001f\u2028\ud800x', method: 'G\nET', backend: 'b1', upstreamHeadersMs: 0.25 };
    const quiet: RequestEndEvent = { ...EVENT, retryRefusal: null, hedged: false, hedge: null, shed: null, rateLimitRule: null, rateLimitMode: null };
    const hedged: RequestEndEvent = { ...EVENT, attempts: 2, retryRefusal: null, hedged: true, hedge: 'won', shed: null };
    const shed: RequestEndEvent = { ...EVENT, status: 503, retryRefusal: 'budget', shed: 'inflight_global' };
    const limited: RequestEndEvent = { ...EVENT, status: 429, rateLimitRule: 'per "ip"', rateLimitMode: 'enforce' };
    const optional = ['retryRefusal', 'hedge', 'shed', 'rateLimitRule', 'rateLimitMode'];
    const withoutNulls = (e: RequestEndEvent) =>
      Object.fromEntries(Object.entries(e).filter(([k, v]) => !(v === null && optional.includes(k)) && !(k === 'hedged' && e.hedge == null))) as unknown as RequestEndEvent;
    const traced: RequestEndEvent = { ...EVENT, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' };
    for (const e of [EVENT, hostile, quiet, hedged, shed, limited, traced]) {
      const ours = accessLogLine(e, logTime(1700000000007), bindings);
      const theirs = pinoLine(withoutNulls(e), 1700000000007);
      // Wait a tick for pino's async-free write to land.
      await new Promise((r) => setImmediate(r));
      assert.equal(ours, theirs);
      assert.deepEqual(JSON.parse(ours), JSON.parse(theirs));
    }
  });

  it('batches lines into one write per turn, honours the level live, flushes on stop', async () => {
    const writes: string[] = [];
    const logger = pino({ level: 'info', base: { service: 's', pid: 1 } }, new Writable({ write: (_c, _e, cb) => cb() }));
    const stop = startAccessLog(logger, { write: (s: string) => writes.push(s) });
    publishRequestEnd(EVENT);
    publishRequestEnd(EVENT);
    assert.equal(writes.length, 0, 'nothing written synchronously');
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1, 'one write for the turn');
    assert.equal(writes[0]?.split('\n').filter(Boolean).length, 2);
    logger.level = 'warn';
    publishRequestEnd(EVENT);
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1, 'off at warn');
    logger.level = 'info';
    publishRequestEnd(EVENT);
    stop();
    assert.equal(writes.length, 2, 'stop flushes what is pending');
    const line = JSON.parse(writes[1] ?? '');
    assert.equal(line.msg, 'request');
    assert.equal(line.pid, 1, 'the logger bindings, pid included');
    assert.equal(line.service, 's');
    assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO 8601 UTC with milliseconds');
    assert.ok(Math.abs(Date.parse(line.time) - Date.now()) < 60_000, 'the time the line was written');
  });
});
