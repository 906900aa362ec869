/**
 * The process logger: pino, JSON lines on stdout, synchronous writes (a log line is on stdout
 * before the next statement runs, which the process tests and operators' `tail` rely on).
 * Levels: fatal, error, warn, info (default), debug, trace, silent. `time` is ISO 8601 UTC with
 * milliseconds, as on the control plane (log-time.ts).
 */
import pino from 'pino';
import { pinoIsoTime } from './log-time.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The process's log destination: stdout, synchronous (SonicBoom). */
export type LogDestination = ReturnType<typeof pino.destination>;

export function createLogDestination(): LogDestination {
  return pino.destination({ dest: 1, sync: true });
}

/** `destination` defaults to a new stdout one; pass the shared one so the access log can batch into it. */
export function createLogger(level: LogLevel, destination: LogDestination = createLogDestination()): pino.Logger {
  return pino({ level, base: { service: 'spooky-dataplane', pid: process.pid }, timestamp: pinoIsoTime }, destination);
}
