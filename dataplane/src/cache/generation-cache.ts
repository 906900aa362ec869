/**
 * The data plane's disk cache of its last good generation: one file, `generation.json`, in the
 * `--cache-dir` directory (format: cache-entry.ts).
 *
 * save() is atomic and durable: write a temp file in the same directory, fsync it, rename it
 * over the cache file, fsync the directory. A crash at any point leaves either the old file or
 * the new one, never a mix. Saves are serialized in call order, so an older generation never
 * lands after a newer one.
 *
 * load() reads the whole file and judges it (judgeCacheText). A corrupt file is moved to
 * `<dir>/quarantine/generation.json.<timestamp>` so it is kept for inspection and never read
 * again; stale or other-scope files stay where they are (the next save replaces them).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { GenerationRef } from '../control/generation-applier.ts';
import { syncDirectory, writeFileAtomically } from './atomic-file.ts';
import { type CacheEntry, type CacheExpectation, encodeCacheEntry, judgeCacheText } from './cache-entry.ts';

export const CACHE_FILE = 'generation.json';
export const QUARANTINE_DIR = 'quarantine';
const TEMP_MARK = '.tmp-';

export type CacheLoadResult =
  | { readonly kind: 'usable'; readonly entry: CacheEntry }
  | { readonly kind: 'missing'; readonly code: 'cache.missing'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly code: 'cache.corrupt'; readonly reason: string; readonly quarantinedTo: string | null }
  | { readonly kind: 'stale'; readonly code: 'cache.stale'; readonly reason: string; readonly entry: CacheEntry }
  | { readonly kind: 'scope-mismatch'; readonly code: 'cache.scope_mismatch'; readonly reason: string; readonly entry: CacheEntry };

export interface GenerationCache {
  /** The cache file's path. */
  readonly path: string;
  /** Atomically replaces the cache with `payload` (canonical JSON bytes) of `ref`. Rejects on I/O failure. */
  save(ref: GenerationRef, payload: Uint8Array, savedAtMs?: number): Promise<void>;
  /** Reads and judges the cache file; quarantines it when corrupt. Never rejects for a bad file. */
  load(expect: Omit<CacheExpectation, 'nowMs'> & { readonly nowMs?: number }): Promise<CacheLoadResult>;
}

export function createGenerationCache(dir: string): GenerationCache {
  const path = join(dir, CACHE_FILE);
  let saving: Promise<void> = Promise.resolve();

  const writeAtomically = async (text: string): Promise<void> => {
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `${CACHE_FILE}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
    await writeFileAtomically(path, temp, text);
  };

  return {
    path,
    save(ref, payload, savedAtMs = Date.now()) {
      const text = encodeCacheEntry({
        ref: { scope: ref.scope, seq: ref.seq, digest: ref.digest },
        payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'),
        savedAtMs,
      });
      const run = saving.then(() => writeAtomically(text));
      saving = run.catch(() => undefined);
      return run;
    },

    async load(expect) {
      await removeLeftoverTemps(dir);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { kind: 'missing', code: 'cache.missing', reason: `no cached generation at ${path}` };
        // Unreadable (permissions, EISDIR, I/O error): as bad as corrupt, but do not move what we cannot read.
        return { kind: 'corrupt', code: 'cache.corrupt', reason: `cannot read ${path}: ${code ?? (err as Error).message}`, quarantinedTo: null };
      }
      const verdict = judgeCacheText(text, { scope: expect.scope, maxAgeMs: expect.maxAgeMs, nowMs: expect.nowMs ?? Date.now() });
      if (verdict.kind !== 'corrupt') return verdict;
      const quarantinedTo = await quarantine(dir, path).catch(() => null);
      return { ...verdict, quarantinedTo };
    },
  };
}

/** Moves the cache file into quarantine/ under a timestamped name; returns the new path. */
async function quarantine(dir: string, path: string): Promise<string> {
  const qdir = join(dir, QUARANTINE_DIR);
  await mkdir(qdir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = join(qdir, `${CACHE_FILE}.${stamp}`);
  await rename(path, target);
  await syncDirectory(dir);
  return target;
}

/** Temp files of a save interrupted by a crash (another pid) are garbage: never read, removed on load. */
async function removeLeftoverTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const ours = `${CACHE_FILE}${TEMP_MARK}${process.pid}-`;
  const leftovers = names.filter((n) => n.startsWith(`${CACHE_FILE}${TEMP_MARK}`) && !n.startsWith(ours));
  await Promise.all(leftovers.map((n) => unlink(join(dir, n)).catch(() => undefined)));
}
