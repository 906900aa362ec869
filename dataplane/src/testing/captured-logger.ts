/** Test support: a pino logger whose JSON lines are kept in memory for assertions. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type LoggedLine = Record<string, unknown>;

/** A logger at `level` and the lines it wrote so far (parsed, oldest first). */
export function capturedLogger(level: pino.LevelWithSilent): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LoggedLine);
      cb();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
