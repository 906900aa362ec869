/**
 * The `time` of every data-plane log line: ISO 8601 in UTC with milliseconds,
 * `"time":"2026-12-03T14:00:00.000Z"` — exactly what the control plane writes
 * (`pino.stdTimeFunctions.isoTime`, controlplane/src/observability/logger.ts), so one parser
 * reads both planes. Both the pino logger (its `timestamp` option) and the fixed-shape access
 * log (access-log-line.ts) take the text from here.
 *
 * Cost: the string is built at most once per millisecond (cached), and within one second only
 * the three millisecond digits change (the `YYYY-MM-DDTHH:MM:SS.` prefix is cached per second),
 * so a busy process pays a compare per line and an idle one a short concatenation, never a
 * `Date#toISOString()` per line.
 */

let cachedMs = Number.NaN;
let cachedTime = '';
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * `epochMs` (an integer, e.g. `Date.now()`) as a JSON string value, quotes included:
 * `"2026-12-03T14:00:00.000Z"`. Equal to `JSON.stringify(new Date(epochMs).toISOString())`
 * for every instant from 1970 to 9999.
 */
export function logTime(epochMs: number): string {
  if (epochMs === cachedMs) return cachedTime;
  const millis = epochMs % 1000;
  const second = epochMs - millis;
  if (second !== cachedSecond) {
    cachedSecond = second;
    // "2026-12-03T14:00:00." (20 characters; years 1970-9999 are four digits).
    cachedPrefix = new Date(second).toISOString().slice(0, 20);
  }
  cachedMs = epochMs;
  cachedTime = `"${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z"`;
  return cachedTime;
}

/** pino's `timestamp` option: `,"time":"…"` for the line being written now. */
export function pinoIsoTime(): string {
  return `,"time":${logTime(Date.now())}`;
}
