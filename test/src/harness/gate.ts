/**
 * A one-shot gate an origin waits on between two pieces of a streamed response, opened by the
 * test once the client saw the first piece: proof that the piece crossed the proxy before the
 * origin finished, with no sleep. The wait is bounded: after `ms` it gives up (resolves false)
 * so an origin never hangs; the test then fails on what it did not see.
 */
export class Gate {
  #open: (() => void) | null = null;
  #opened = false;

  open(): void {
    this.#opened = true;
    this.#open?.();
  }

  get isOpen(): boolean {
    return this.#opened;
  }

  /** Resolves true once open() was called, false after `ms` without it. */
  wait(ms: number): Promise<boolean> {
    if (this.#opened) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#open = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
