/**
 * Polls the files the serving listeners were read from (certificates, keys, client CA
 * bundles) and reports when any differs from what was loaded, so new TLS handshakes get the
 * new material without a new generation. Polling (stat every `intervalMs`, default 1000 ms)
 * rather than fs.watch: it also sees files replaced by rename (how cert-manager, certbot and
 * Kubernetes secret volumes update them), costs one stat per file per interval, and has a
 * bound by construction.
 *
 * "What was loaded" is the signature each file had when it was read (read-listener-spec.ts
 * stats before reading), so a change between a generation's read and the first poll is not
 * missed. Whether changed files are *usable* (a half-written key, a key of another
 * certificate) is decided by the caller, which loads nothing unless every file checks out; a
 * rejected state is not retried until a file changes again.
 */
import { stat } from 'node:fs/promises';

/** What the caller did with a reported change. 'busy': try again on the next poll. */
export type ChangeVerdict = 'applied' | 'rejected' | 'busy';

export interface CertificateWatcherOptions {
  /** Path → signature as loaded by the serving listeners (read at every poll). */
  readonly loaded: () => ReadonlyMap<string, string>;
  /** Called at most once at a time. */
  readonly onChange: () => Promise<ChangeVerdict>;
  readonly intervalMs?: number;
}

export class CertificateWatcher {
  readonly #options: CertificateWatcherOptions;
  /** The on-disk state last rejected by the caller (not retried until it changes). */
  #rejected: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;

  constructor(options: CertificateWatcherOptions) {
    this.#options = options;
  }

  /** Starts polling (idempotent). The timer never keeps the process alive. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#polling ??= this.poll().finally(() => {
        this.#polling = null;
      });
    }, this.#options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#polling;
  }

  /** One poll: stats every loaded path; reports a difference unless that state was rejected. */
  async poll(): Promise<void> {
    const loaded = this.#options.loaded();
    const now = await Promise.all([...loaded.keys()].map(fileSignature));
    const differs = [...loaded.values()].some((sig, i) => sig !== now[i]);
    if (!differs) {
      this.#rejected = null;
      return;
    }
    const state = now.join('|');
    if (state === this.#rejected) return;
    const verdict = await this.#options.onChange();
    if (verdict === 'rejected') this.#rejected = state;
  }
}

/** Inode, size, mtime and ctime; 'missing' when the file cannot be stat'ed (it may appear later). */
export async function fileSignature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}
