/**
 * The `date` response header value (RFC 9110 §6.6.1, IMF-fixdate) for responses Spooky makes
 * itself. Node's HTTP/1.1 and HTTP/2 servers add one when a response has none; the HTTP/3
 * library does not, so local replies carry it explicitly on every protocol. The string changes
 * once a second, so it is rebuilt at most once a second, not per reply (overload shedding can
 * answer many local replies a second).
 */
let cachedSecond = -1;
let cachedValue = '';

/** The current time as an IMF-fixdate, e.g. `Thu, 03 Dec 2026 09:00:00 GMT`. */
export function httpDate(nowMs: number = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedValue = new Date(second * 1000).toUTCString();
  }
  return cachedValue;
}
