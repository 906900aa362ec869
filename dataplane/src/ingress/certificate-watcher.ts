/**
 * Polls the files a set of listeners was read from (certificates, keys, client CA bundles)
 * and reports when any changed, so new TLS handshakes get the new material without a new
 * generation. Polling (stat every `intervalMs`, default 1000 ms) rather than fs.watch: it
 * also sees files replaced by rename (how cert-manager, certbot and Kubernetes secret
 * volumes update them), costs one stat per file per interval, and has a bound by
 * construction. A change is reported once; whether the new files are *usable* (a
 * half-written key, a key of another certificate) is decided by the caller, which loads
 * nothing unless every file checks out (read-listener-spec.ts).
 */
import { stat } from 'node:fs/promises';

/** What the caller did with a reported change. 'busy': try again on the next poll. */
export type ChangeVerdict = 'applied' | 'rejected' | 'busy';

export interface CertificateWatcherOptions {
  /** The paths to watch now (read at every poll: the set follows the generations). */
  readonly paths: () => readonly string[];
  /** Called at most once at a time. */
  readonly onChange: () => Promise<ChangeVerdict>;
  readonly intervalMs?: number;
}

export class CertificateWatcher {
  readonly #options: CertificateWatcherOptions;
  /** Signature of each path as of the last change handled (or first seen). */
  #seen = new Map<string, string>();
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

  /** One poll: stats every path; on any difference from the last handled state, reports it. */
  async poll(): Promise<void> {
    const paths = this.#options.paths();
    const now = new Map<string, string>(await Promise.all(paths.map(async (p): Promise<[string, string]> => [p, await signature(p)])));
    let changed = false;
    for (const [p, sig] of now) {
      const before = this.#seen.get(p);
      if (before !== undefined && before !== sig) changed = true;
    }
    if (!changed) {
      // New paths (a new generation) are recorded as they are now.
      this.#seen = now;
      return;
    }
    const verdict = await this.#options.onChange();
    if (verdict !== 'busy') this.#seen = now;
  }
}

/** Inode, size and mtime; 'missing' when the file cannot be stat'ed (it may appear later). */
async function signature(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}
