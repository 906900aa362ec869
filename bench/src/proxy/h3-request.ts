/**
 * One load-generator request on a library HTTP/3 session, callback style (no promise per
 * stage, so the generator spends its core on requests). The response body is counted, not
 * kept. Every request is bounded: an `InflightSweep` destroys any still open past its
 * deadline and reports `timeout`.
 */
import type { Http3ClientSession, IncomingHeaders } from '@currentspace/http3';

/** Called once per request: error kind (null = 200 with the expected body size) and bytes read. */
export type RequestDone = (error: string | null, bytes: number) => void;

interface Pending {
  readonly deadline: number;
  readonly expire: () => void;
}

/** One coarse timer for every request in flight (instead of a timer each). */
export class InflightSweep {
  readonly #pending = new Set<Pending>();
  readonly #timer: NodeJS.Timeout;

  constructor(periodMs = 100) {
    this.#timer = setInterval(() => this.#sweep(), periodMs);
    this.#timer.unref();
  }

  get size(): number {
    return this.#pending.size;
  }

  add(entry: Pending): void {
    this.#pending.add(entry);
  }

  delete(entry: Pending): void {
    this.#pending.delete(entry);
  }

  /** Expires every request still in flight (end of a job). */
  expireAll(): void {
    for (const p of [...this.#pending]) p.expire();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sweep(): void {
    const now = performance.now();
    for (const p of this.#pending) if (p.deadline <= now) p.expire();
  }
}

function errorKind(prefix: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return `${prefix}:${typeof code === 'string' || typeof code === 'number' ? code : ((err as Error).name ?? 'error')}`;
}

export function sendRequest(
  session: Http3ClientSession,
  headers: IncomingHeaders,
  body: Buffer | null,
  expectBytes: number,
  timeoutMs: number,
  sweep: InflightSweep,
  done: RequestDone,
): void {
  session.requestAsync(headers, { endStream: body === null, timeoutMs }).then(
    (stream) => {
      let status = 0;
      let bytes = 0;
      let finished = false;
      const finish = (error: string | null): void => {
        if (finished) return;
        finished = true;
        sweep.delete(entry);
        if (error !== null) stream.destroy();
        done(error, bytes);
      };
      const entry: Pending = { deadline: performance.now() + timeoutMs, expire: () => finish('timeout') };
      sweep.add(entry);
      stream.on('response', (h: IncomingHeaders) => {
        status = Number(h[':status']);
      });
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      stream.on('end', () => finish(status !== 200 ? `status:${status}` : bytes !== expectBytes ? 'short-body' : null));
      stream.on('error', (err: unknown) => finish(errorKind('stream', err)));
      if (body !== null) stream.end(body);
    },
    (err: unknown) => done(errorKind('open', err), 0),
  );
}
