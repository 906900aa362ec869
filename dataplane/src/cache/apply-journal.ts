/**
 * The apply journal: an "applying" marker in the cache dir, so a data plane that dies while
 * applying a generation (out of memory in compile, a crash in a library) does not die again
 * on the same generation after its restart.
 *
 * - `begin(ref)` durably writes `<cache-dir>/applying.json` {scope, seq, digest, refused,
 *   startedAt} (temp file, fsync, rename, fsync of the directory) before the generation is
 *   parsed; `end()` removes it once the apply was swapped in or rejected.
 * - At boot, `openApplyJournal` reads a marker left behind: its digest (plus the digests the
 *   crashed process itself refused, carried in `refused`) is refused for the life of this
 *   process: `refusal(ref)` answers the non-retryable issue `generation.crashed_while_applying`.
 *   The marker stays until this process's first apply ends (a process that dies before that
 *   leaves it for the next boot); the refusals live in memory and are carried in every later
 *   marker, so a chain of crashes accumulates them. After an apply ended the marker is gone:
 *   the next boot refuses nothing (the control plane has marked such a generation `failed`).
 * - main.ts serves the disk cache (the last good generation) at once when the boot found a
 *   marker, instead of waiting for a push that would kill it again.
 *
 * - With `--workers N` the primary owns the journal (apply/fleet-applier.ts): a worker that dies
 *   while the others live on makes the primary `refuse(ref)` the generation directly.
 *
 * - The crash window of the in-node canary (docs/rollout.md §5): `holdCandidate(ref,
 *   crashWindowMs)` durably writes `<cache-dir>/candidate.json` {scope, seq, digest,
 *   appliedAtMs, crashWindowMs, cleanStop: false} once a candidate is held; `cleanStop()`
 *   rewrites it with `cleanStop: true` after a finished drain; `clearCandidate()` removes it
 *   (promoted, dropped, or replaced by a SERVE apply). At boot `candidateAtBoot` is what the
 *   previous process left, for decideAtStart (rollout/in-node-canary.ts).
 *
 * Marker I/O failures never block an apply: they are logged ("apply marker write failed") and
 * the apply goes on unprotected.
 */
import { readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue } from '@spooky/config';
import type pino from 'pino';
import type { GenerationRef } from '../control/generation-applier.ts';
import { syncDirectory, writeFileAtomically } from './atomic-file.ts';

export const MARKER_FILE = 'applying.json';
export const CANDIDATE_FILE = 'candidate.json';
export const CRASHED_CODE = 'generation.crashed_while_applying';
/** Refusals carried from marker to marker (oldest dropped first). */
const MAX_REFUSED = 16;

export interface ApplyJournal {
  /** The refusal of a generation this node crashed on, or null. */
  refusal(ref: GenerationRef): ConfigIssue | null;
  /** Durably marks `ref` as being applied. Never rejects. */
  begin(ref: GenerationRef): Promise<void>;
  /** Removes the marker (the apply finished, either way). Never rejects. */
  end(): Promise<void>;
  /**
   * Refuses `ref` from now on, for the life of this process and in every later marker: a
   * worker died applying it while this process (the supervisor primary) lived on.
   */
  refuse(ref: GenerationRef): void;
  /** Durably records `ref` as the held candidate (not stopped cleanly yet). Never rejects. */
  holdCandidate(ref: GenerationRef, crashWindowMs: number): Promise<void>;
  /** Marks the recorded candidate as stopped cleanly (drain finished); a no-op without one. Never rejects. */
  cleanStop(): Promise<void>;
  /** Removes the candidate record (promoted, dropped, replaced). Never rejects. */
  clearCandidate(): Promise<void>;
}

/** candidate.json: the candidate held when the previous process stopped (or died). */
export interface CandidateJournalRecord extends GenerationRef {
  readonly appliedAtMs: number;
  readonly crashWindowMs: number;
  readonly cleanStop: boolean;
}

export interface OpenedJournal {
  readonly journal: ApplyJournal;
  /** The generation the previous process died applying, or null when it left no marker. */
  readonly crashedOn: (GenerationRef & { readonly startedAt: string }) | null;
  /** The candidate record the previous process left (candidate.json), or null. */
  readonly candidateAtBoot: CandidateJournalRecord | null;
}

interface Marker {
  readonly scope: string;
  readonly seq: number;
  readonly digest: string;
  readonly refused: readonly string[];
  readonly startedAt: string;
}

/** Reads (and removes) a marker left by a crashed process; synchronous, once at boot. */
export function openApplyJournal(dir: string, logger: pino.Logger): OpenedJournal {
  const log = logger.child({ component: 'apply-journal' });
  const path = join(dir, MARKER_FILE);
  const refused = new Map<string, { seq: number }>();
  let crashedOn: OpenedJournal['crashedOn'] = null;
  const left = readMarker(path);
  if (left !== null) {
    for (const d of left.refused) refused.set(d, { seq: -1 });
    refused.set(left.digest, { seq: left.seq });
    crashedOn = { scope: left.scope, seq: left.seq, digest: left.digest, startedAt: left.startedAt };
  }

  const write = (text: string): Promise<void> => writeFileAtomically(path, `${path}.tmp-${process.pid}`, text);
  const candidatePath = join(dir, CANDIDATE_FILE);
  const candidateAtBoot = readCandidate(candidatePath);
  let candidate: CandidateJournalRecord | null = null;
  /** Candidate writes in call order: a clear never lands before the hold it follows. */
  let candidateWrites: Promise<void> = Promise.resolve();
  const writeCandidate = (record: CandidateJournalRecord | null): Promise<void> => {
    candidate = record;
    const run = candidateWrites.then(async () => {
      try {
        if (record !== null) {
          await writeFileAtomically(candidatePath, `${candidatePath}.tmp-${process.pid}`, JSON.stringify(record));
          return;
        }
        await unlink(candidatePath);
        await syncDirectory(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        log.warn({ code: (err as NodeJS.ErrnoException).code, err: (err as Error).message }, 'candidate record write failed');
      }
    });
    candidateWrites = run;
    return run;
  };

  return {
    crashedOn,
    candidateAtBoot,
    journal: {
      holdCandidate: (ref, crashWindowMs) =>
        writeCandidate({ scope: ref.scope, seq: ref.seq, digest: ref.digest, appliedAtMs: Date.now(), crashWindowMs, cleanStop: false }),
      cleanStop: () => (candidate === null ? candidateWrites : writeCandidate({ ...candidate, cleanStop: true })),
      clearCandidate: () => writeCandidate(null),
      refusal(ref) {
        const known = refused.get(ref.digest);
        if (known === undefined) return null;
        return {
          pointer: '',
          code: CRASHED_CODE,
          message: `this data plane crashed while applying generation ${ref.digest}${known.seq >= 0 ? ` (seq ${known.seq})` : ''} and restarted; it refuses that generation`,
        };
      },
      async begin(ref) {
        const marker: Marker = {
          scope: ref.scope,
          seq: ref.seq,
          digest: ref.digest,
          refused: [...refused.keys()].slice(-MAX_REFUSED),
          startedAt: new Date().toISOString(),
        };
        await write(JSON.stringify(marker)).catch((err: unknown) =>
          log.warn({ code: (err as NodeJS.ErrnoException).code, err: (err as Error).message }, 'apply marker write failed'),
        );
      },
      refuse(ref) {
        refused.delete(ref.digest);
        refused.set(ref.digest, { seq: ref.seq });
      },
      async end() {
        try {
          await unlink(path);
          await syncDirectory(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
            log.warn({ code: (err as NodeJS.ErrnoException).code, err: (err as Error).message }, 'apply marker removal failed');
          }
        }
      },
    },
  };
}

/**
 * The JSON object in `path`, or null when the file is missing or unreadable. A torn file cannot
 * happen (atomic rename); anything unreadable names no generation.
 */
function readJsonObject<T>(path: string): Partial<T> | null {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Partial<T>) : null;
  } catch {
    return null;
  }
}

function readCandidate(path: string): CandidateJournalRecord | null {
  const r = readJsonObject<CandidateJournalRecord>(path);
  if (r === null || typeof r.digest !== 'string' || typeof r.scope !== 'string' || typeof r.seq !== 'number') return null;
  if (typeof r.appliedAtMs !== 'number' || typeof r.crashWindowMs !== 'number') return null;
  return { scope: r.scope, seq: r.seq, digest: r.digest, appliedAtMs: r.appliedAtMs, crashWindowMs: r.crashWindowMs, cleanStop: r.cleanStop === true };
}

function readMarker(path: string): Marker | null {
  const m = readJsonObject<Marker>(path);
  if (m === null || typeof m.digest !== 'string' || typeof m.scope !== 'string' || typeof m.seq !== 'number') return null;
  const refused = Array.isArray(m.refused) ? m.refused.filter((d): d is string => typeof d === 'string') : [];
  return { scope: m.scope, seq: m.seq, digest: m.digest, refused, startedAt: typeof m.startedAt === 'string' ? m.startedAt : '' };
}
