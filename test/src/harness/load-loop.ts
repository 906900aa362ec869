/**
 * Steady client traffic against one target while a scenario runs (a rollout's health gates
 * need requests on every node during a soak, and "clients of non-canary nodes see zero errors"
 * needs every answer recorded). `concurrency` workers each send GET `path` and then pace to
 * `ratePerSec` overall (pacing, not synchronisation: nothing waits on it). Every answer is
 * recorded with its time; `stop()` ends the loop and resolves once in-flight requests ended.
 */
import type { SimpleResponse } from './unix-https-client.ts';

export interface LoadSample {
  /** Date.now() when the answer arrived. */
  readonly at: number;
  /** HTTP status, 0 for a transport failure. */
  readonly status: number;
  /** The `x-origin` header, when the origin answered. */
  readonly origin?: string;
  readonly error?: string;
}

export interface Load {
  readonly samples: LoadSample[];
  /** Samples whose status is not 2xx (transport failures included). */
  failures(since?: number): LoadSample[];
  stop(): Promise<void>;
}

export interface LoadOptions {
  readonly path: string;
  readonly concurrency?: number;
  readonly ratePerSec?: number;
  readonly timeoutMs?: number;
}

/** What a worker sends with (a UnixHttpsClient fits); `close` is called when the loop stops. */
export interface LoadClient {
  get(path: string, timeoutMs: number): Promise<SimpleResponse>;
  close(): Promise<void>;
}

/** Starts the loop at once; `makeClient` is called once per worker. */
export function startLoad(makeClient: () => LoadClient, opts: LoadOptions): Load {
  const concurrency = opts.concurrency ?? 2;
  const rate = opts.ratePerSec ?? 20;
  const perWorkerGapMs = (1000 * concurrency) / rate;
  const samples: LoadSample[] = [];
  let running = true;
  let wake: Array<() => void> = [];
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = wake.filter((w) => w !== done);
        resolve();
      }
      wake.push(done);
    });
  const worker = async () => {
    const client = makeClient();
    let n = 0;
    while (running) {
      const started = Date.now();
      const res = await client.get(`${opts.path}${opts.path.includes('?') ? '&' : '?'}n=${n++}`, opts.timeoutMs ?? 10_000);
      samples.push({
        at: Date.now(),
        status: res.status,
        ...(res.headers['x-origin'] === undefined ? {} : { origin: res.headers['x-origin'] }),
        ...(res.error === undefined ? {} : { error: res.error }),
      });
      const left = perWorkerGapMs - (Date.now() - started);
      if (running && left > 0) await pause(left);
    }
    await client.close();
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    samples,
    failures: (since = 0) => samples.filter((s) => s.at >= since && (s.status < 200 || s.status > 299)),
    stop: async () => {
      running = false;
      for (const w of [...wake]) w();
      await Promise.all(workers);
    },
  };
}
