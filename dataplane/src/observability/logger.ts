/**
 * The process logger: pino, JSON lines on stdout, synchronous writes (a log line is on stdout
 * before the next statement runs, which the process tests and operators' `tail` rely on).
 * Levels: fatal, error, warn, info (default), debug, trace, silent.
 */
import pino from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel): pino.Logger {
  return pino({ level, base: { service: 'spooky-dataplane', pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
}
