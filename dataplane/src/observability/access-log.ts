/**
 * Access log: one line per request, msg "request", carrying every field of the pipeline's
 * `spooky:request:end` event (request id, route upstream, backend, status, durations,
 * outcome, generation seq). The pipeline publishes; this only subscribes.
 *
 * Hot path: the line is serialised in a fixed shape (access-log-line.ts), its `time` built at
 * most once per millisecond (log-time.ts), and written in batches, once per event-loop turn
 * (batched-lines.ts), to the process logger's destination.
 * It is written only while the logger's level enables `info`, so `log.level: warn` in the
 * config (or `--log-level warn`) turns it off, live.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import pino from 'pino';
import type { RequestEndEvent } from '../pipeline/events.ts';
import { CHANNELS } from '../telemetry/channel-names.ts';
import { accessLogLine } from './access-log-line.ts';
import { BatchedLines, type LineSink } from './batched-lines.ts';
import { logTime } from './log-time.ts';

const INFO = 30;

/** Starts writing access-log lines to `sink` (the logger's destination); returns the stop. */
export function startAccessLog(logger: pino.Logger, sink: LineSink): () => void {
  const lines = new BatchedLines(sink);
  const bindings = serialisedBindings(logger);
  const onEnd = (message: unknown): void => {
    if (logger.levelVal > INFO) return;
    lines.push(accessLogLine(message as RequestEndEvent, logTime(Date.now()), bindings));
  };
  subscribe(CHANNELS.requestEnd, onEnd);
  return () => {
    unsubscribe(CHANNELS.requestEnd, onEnd);
    lines.close();
  };
}

/**
 * The `,"k":v…` run pino puts after `time`: its own serialised bindings (`base` fields such as
 * `service` and `pid`, plus child bindings). Not `logger.bindings()`, which leaves out `pid`.
 */
function serialisedBindings(logger: pino.Logger): string {
  const raw = (logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym];
  if (typeof raw === 'string') return raw;
  let out = '';
  for (const [key, value] of Object.entries({ ...logger.bindings(), pid: process.pid })) out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return out;
}
