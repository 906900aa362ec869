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
  type ProbeRequest,
  parseConfig,
} from '@spooky/config';
import { CpError } from '../errors.ts';
import type { GenerationRecord, GenerationRepo } from './ports.ts';

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
  return { from: side(a), to: side(b), changes: diff(configOf(a), configOf(b)) };
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
  return diff(configOf(active), configOf(target));
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

/** Parsed configs by digest: the same few generations are diffed again and again. */
const parsedByDigest = new Map<string, Config>();
const PARSED_CACHE_SIZE = 8;

/**
 * The stored canonical document as a Config. Re-parsed so defaults added since it was stored
 * are filled like in a fresh config; a document that no longer passes today's checks is used
 * as stored (diff and routing read it defensively) rather than failing a read-only call.
 */
function configOf(record: GenerationRecord | null): Config | null {
  if (record === null) return null;
  const cached = parsedByDigest.get(record.digest);
  if (cached) return cached;
  const document: unknown = JSON.parse(record.payload);
  const parsed = parseConfig(document);
  const config = parsed.ok ? parsed.config : (document as Config);
  if (parsedByDigest.size >= PARSED_CACHE_SIZE) parsedByDigest.delete(parsedByDigest.keys().next().value as string);
  parsedByDigest.set(record.digest, config);
  return config;
}
