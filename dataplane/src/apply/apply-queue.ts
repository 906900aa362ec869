/**
 * ApplyQueue: the serving applier's calls run one at a time, in call order (serving-applier.ts).
 * A prepare whose result is ok keeps the queue held until its commit (and the flush of its apply
 * marker) or its abort, so nothing else applies between the two halves of a two-phase apply
 * (prepared-apply.ts). A failed work item never blocks the ones after it.
 */
import type { PreparedApply } from './prepared-apply.ts';

export class ApplyQueue {
  #queue: Promise<unknown> = Promise.resolve();

  /** Runs `work` after everything queued before it. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Runs `prepare` after everything queued before it. An ok result comes back wrapped so that its
   * commit (once flushed) or abort releases the queue; a result that is not ok releases it at
   * once. `prepare` throwing is answered by `onError`'s result (the queue is released).
   */
  runPrepared(prepare: () => Promise<PreparedApply>, onError: (err: unknown) => PreparedApply): Promise<PreparedApply> {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const run = this.#queue.then(prepare);
    this.#queue = run.then(
      (p) => (p.result.ok ? held : undefined),
      () => undefined,
    );
    return run.then((p) => {
      if (!p.result.ok) return p;
      return {
        result: p.result,
        flushed: () => p.flushed(),
        commit() {
          try {
            p.commit();
          } finally {
            void p.flushed().finally(release);
          }
        },
        async abort() {
          try {
            await p.abort();
          } finally {
            release();
          }
        },
      };
    }, onError);
  }
}
