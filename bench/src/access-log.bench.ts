/**
 * CPU per access-log line: pino's `logger.info(event, 'request')` (what the data plane did
 * before) against the fixed-shape serialiser + batched writes it uses now, both into a sink
 * that discards (so only serialisation and the write path count), interleaved rounds. The
 * `time` variants compare the line's timestamp: the ISO text cached per millisecond
 * (log-time.ts, what the data plane writes) against epoch ms (before) and an uncached
 * `toISOString()` per line.
 *
 *   node bench/src/access-log.bench.ts [--lines 200000] [--rounds 5]
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { accessLogLine } from '../../dataplane/src/observability/access-log-line.ts';
import { BatchedLines } from '../../dataplane/src/observability/batched-lines.ts';
import { logTime } from '../../dataplane/src/observability/log-time.ts';
import type { RequestEndEvent } from '../../dataplane/src/pipeline/events.ts';
import { parseBenchArgs } from './proxy/bench-args.ts';

const USAGE = 'usage: node bench/src/access-log.bench.ts [--lines 200000] [--rounds 5]';
const values = parseBenchArgs({ lines: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } }, USAGE);
const LINES = Number(values.lines);
const ROUNDS = Number(values.rounds);

const event: RequestEndEvent = {
  requestId: '9d791b6187d3a159-1',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  protocol: 'h3',
  method: 'GET',
  host: 'app.example.com',
  path: '/api/v1/items?page=2',
  generationSeq: 12,
  route: 'app',
  upstream: 'app',
  backend: 'app-1',
  status: 200,
  outcome: 'ok',
  attempts: 1,
  durationMs: 1.234567,
  upstreamHeadersMs: 0.98765,
  bytesIn: 0,
  bytesOut: 512,
};

let bytes = 0;
const discard = new Writable({
  write(chunk: Buffer | string, _enc, cb) {
    bytes += chunk.length;
    cb();
  },
});
const sink = { write: (s: string) => { bytes += s.length; return true; } };
const logger = pino({ level: 'info', base: { service: 'spooky-dataplane', pid: process.pid } }, discard);
const batched = new BatchedLines(sink);
// The data plane's real destination kind: synchronous SonicBoom, here on /dev/null.
const devNullPino = pino({ level: 'info', base: { service: 'spooky-dataplane', pid: process.pid } }, pino.destination({ dest: '/dev/null', sync: true }));
const devNullBatched = new BatchedLines(pino.destination({ dest: '/dev/null', sync: true }));
const bindings = `,"service":"spooky-dataplane","pid":${process.pid}`;

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

type Kind = 'pino' | 'fixed' | 'pino-devnull' | 'fixed-devnull' | 'fixed-epoch' | 'fixed-iso-uncached';
const KINDS: readonly Kind[] = ['pino', 'fixed', 'pino-devnull', 'fixed-devnull', 'fixed-epoch', 'fixed-iso-uncached'];

async function round(kind: Kind): Promise<number> {
  const start = cpuUs();
  for (let i = 0; i < LINES; i++) {
    if (kind === 'pino') logger.info(event, 'request');
    else if (kind === 'fixed') batched.push(accessLogLine(event, logTime(Date.now()), bindings));
    else if (kind === 'fixed-epoch') batched.push(accessLogLine(event, String(Date.now()), bindings));
    else if (kind === 'fixed-iso-uncached') batched.push(accessLogLine(event, `"${new Date().toISOString()}"`, bindings));
    else if (kind === 'pino-devnull') devNullPino.info(event, 'request');
    else devNullBatched.push(accessLogLine(event, logTime(Date.now()), bindings));
    if ((i & 1023) === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  return ((cpuUs() - start) * 1000) / LINES;
}

const results: Record<string, number[]> = {};
for (const kind of KINDS) {
  results[kind] = [];
  await round(kind);
}
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? KINDS : [...KINDS].reverse();
  for (const kind of order) results[kind]?.push(await round(kind));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`access-log line, CPU ns per line (median of ${ROUNDS} rounds × ${LINES} lines):`);
console.log(`  pino logger.info(event)          ${median(results.pino ?? []).toFixed(0)} ns`);
console.log(`  fixed shape + batched writes     ${median(results.fixed ?? []).toFixed(0)} ns`);
console.log(`    same, time as epoch ms (before)               ${median(results['fixed-epoch'] ?? []).toFixed(0)} ns`);
console.log(`    same, time as toISOString() per line, uncached ${median(results['fixed-iso-uncached'] ?? []).toFixed(0)} ns`);
console.log(`  pino, sync write per line, /dev/null (before)      ${median(results['pino-devnull'] ?? []).toFixed(0)} ns`);
console.log(`  fixed + one write per turn, /dev/null (now)        ${median(results['fixed-devnull'] ?? []).toFixed(0)} ns`);
console.log(`(${bytes} bytes discarded)`);
batched.close();
devNullBatched.close();
