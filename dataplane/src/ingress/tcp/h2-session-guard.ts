/**
 * Per-connection limits of one HTTP/2 session (TLS TCP side):
 *
 * - No stream within `clientHeaderTimeoutMs` of the session start, or none open for
 *   `clientIdleTimeoutMs` after the last one closed → graceful close (GOAWAY NO_ERROR).
 * - Rapid reset (CVE-2023-44487): a stream that ends with RST_STREAM before any response
 *   head was sent cost us a request and gave the client nothing. Such resets spend tokens of
 *   a per-session bucket (H2_RESETS_BURST, refilled H2_RESETS_PER_SEC); when it is empty the
 *   session gets GOAWAY ENHANCE_YOUR_CALM and is destroyed. The bucket counts every early
 *   reset, whoever sent it (ingress itself resets a stream only after its head is sent or
 *   when the client already went away), so a well-behaved client never gets near it.
 *
 * Limits are read when the session starts (a new generation applies to new connections).
 */
import { constants, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { GuardContext } from '../limits/guard-context.ts';
import { TokenBucket } from '../limits/token-bucket.ts';

/** Early resets one HTTP/2 connection may cause at once… */
export const H2_RESETS_BURST = 200;
/** …and per second after that. */
export const H2_RESETS_PER_SEC = 50;

export function guardH2Session(session: ServerHttp2Session, ctx: GuardContext): void {
  const limits = ctx.admission.limits;
  const resets = new TokenBucket(H2_RESETS_PER_SEC, H2_RESETS_BURST, performance.now());
  let open = 0;
  let ended = false;
  let timer: NodeJS.Timeout | null = null;

  const clear = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const arm = (ms: number, reason: 'no_stream_timeout' | 'idle_timeout'): void => {
    clear();
    timer = setTimeout(() => {
      timer = null;
      if (ended || open > 0) return;
      ctx.events.closed(ctx.label(), reason);
      session.close();
      // A client that never acknowledges the GOAWAY must not keep the socket.
      setTimeout(() => session.destroy(), CLOSE_GRACE_MS).unref();
    }, ms);
    timer.unref();
  };
  const calm = (): void => {
    if (ended) return;
    ended = true;
    clear();
    ctx.events.closed(ctx.label(), 'h2_rapid_reset');
    // GOAWAY first (new streams are refused from here on), then a graceful close: destroying
    // at once can drop the GOAWAY frame behind the queued output. A client that keeps the
    // connection open anyway is destroyed after CLOSE_GRACE_MS.
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
    setTimeout(() => session.destroy(), CLOSE_GRACE_MS).unref();
  };

  arm(limits.clientHeaderTimeoutMs, 'no_stream_timeout');
  session.on('stream', (stream: ServerHttp2Stream) => {
    open++;
    clear();
    stream.once('close', () => {
      open--;
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR && !stream.headersSent && !resets.take(performance.now())) {
        calm();
        return;
      }
      if (open === 0 && !ended) arm(limits.clientIdleTimeoutMs, 'idle_timeout');
    });
  });
  session.once('close', () => {
    ended = true;
    clear();
  });
}

/** How long a session closed for idleness may take to finish before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
