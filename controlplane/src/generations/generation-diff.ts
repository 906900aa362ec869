/**
 * Diffs between stored generations: the field-level diff (validate, activate, rollback,
 * GET …/diff) and the behavioural diff (POST …/diff/behaviour). Reads through GenerationRepo
 * only; the decisions themselves are @spooky/config's pure `diff` and `behaviourDiff`.
 */
import {
  type BehaviourResult,
  behaviourDiff,
  type Change,
  type Config,
  diff,
  diffDocuments,
  type ProbeRequest,
} from '@spooky/config';
import { CpError } from '../errors.ts';
import type { GenerationRecord, GenerationRepo } from './ports.ts';
import { storedConfig, storedDocument } from './stored-configs.ts';

/** Which generation a diff side names: a seq, or whatever is active (possibly nothing). */
export type GenerationSelector = number | 'active';

/** A resolved side: the generation, or null when `active` was asked and nothing is active. */
export type DiffSide = { readonly seq: number; readonly digest: string } | null;

export interface DiffResult {
  readonly from: DiffSide;
  readonly to: DiffSide;
  readonly changes: Change[];
}

export interface BehaviourDiffResult {
  readonly from: DiffSide;
  readonly to: DiffSide;
  readonly results: BehaviourResult[];
}

type Reader = Pick<GenerationRepo, 'getActive' | 'getGeneration'>;

/** Field-level changes from `from` to `to`. Throws generation_not_found (404) for an unknown seq. */
export function diffGenerations(repo: Reader, scope: string, from: GenerationSelector, to: GenerationSelector): DiffResult {
  const a = select(repo, scope, from);
  const b = select(repo, scope, to);
  return { from: side(a), to: side(b), changes: changesBetween(a, b) };
}

/** Where each request goes under `from` and under `to` (reference router). */
export function behaviourBetween(
  repo: Reader,
  scope: string,
  from: GenerationSelector,
  to: GenerationSelector,
  requests: readonly ProbeRequest[],
): BehaviourDiffResult {
  const a = select(repo, scope, from);
  const b = select(repo, scope, to);
  return { from: side(a), to: side(b), results: behaviourDiff(configOf(a), configOf(b), requests) };
}

/** What `next` (a validated submission) changes compared with the active generation; all adds when none is active. */
export function diffAgainstActive(repo: Reader, scope: string, next: Config): Change[] {
  return diff(configOf(select(repo, scope, 'active')), next);
}

/** What making `target` active changes; [] when it is the active generation already. */
export function changesToTarget(repo: Reader, scope: string, target: GenerationRecord): Change[] {
  const active = select(repo, scope, 'active');
  if (active !== null && active.digest === target.digest) return [];
  return changesBetween(active, target);
}

function select(repo: Reader, scope: string, which: GenerationSelector): GenerationRecord | null {
  if (which === 'active') {
    const pointer = repo.getActive(scope);
    return pointer === null ? null : mustGet(repo, scope, pointer.seq);
  }
  return mustGet(repo, scope, which);
}

function mustGet(repo: Reader, scope: string, seq: number): GenerationRecord {
  const record = repo.getGeneration(scope, seq);
  if (!record) throw new CpError('generation_not_found', `scope ${scope} has no generation ${seq}`);
  return record;
}

function side(record: GenerationRecord | null): DiffSide {
  return record === null ? null : { seq: record.seq, digest: record.digest };
}

/** diff(configOf(a), configOf(b)), walking the cached canonical documents (stored-configs.ts). */
function changesBetween(a: GenerationRecord | null, b: GenerationRecord | null): Change[] {
  return diffDocuments(a === null ? {} : storedDocument(a), b === null ? {} : storedDocument(b));
}

function configOf(record: GenerationRecord | null): Config | null {
  return record === null ? null : storedConfig(record);
}
