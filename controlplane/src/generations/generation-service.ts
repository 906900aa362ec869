/**
 * Generation use cases: validate (dry run), create, read history, diffs. Creating a generation never
 * changes traffic; only ActiveService moves the active pointer.
 */
import type { Change, ConfigIssue, ProbeRequest } from '@spooky/config';
import { CpError } from '../errors.ts';
import { type ConfigSubmission, parseSubmission } from './config-input.ts';
import {
  type BehaviourDiffResult,
  behaviourBetween,
  type DiffResult,
  diffAgainstActive,
  diffGenerations,
  type GenerationSelector,
} from './generation-diff.ts';
import type { EventSink } from './lifecycle-ports.ts';
import type { AuditLog, Clock, GenerationMeta, GenerationRecord, GenerationRepo } from './ports.ts';
import { rememberStoredConfig } from './stored-configs.ts';

export interface ValidateResult {
  readonly valid: boolean;
  readonly issues: readonly ConfigIssue[];
  readonly digest: string | null;
  readonly sizeBytes: number | null;
  /** Changes against the active generation (all adds when none is active); null when invalid. */
  readonly diff: Change[] | null;
}

export interface CreateResult {
  readonly generation: GenerationMeta;
  /** True when an identical generation (same digest) already existed and was returned. */
  readonly deduplicated: boolean;
}

export interface GenerationPage {
  readonly items: GenerationMeta[];
  /** Pass as `before` to get the next page; null on the last page. */
  readonly next: number | null;
}

export interface Actor {
  readonly actor: string;
  readonly reason: string;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export class GenerationService {
  readonly #repo: GenerationRepo;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #events: EventSink | undefined;

  /** `events` receives `generation.created` inside the creating transaction. */
  constructor(deps: { repo: GenerationRepo; audit: AuditLog; clock: Clock; events?: EventSink }) {
    this.#repo = deps.repo;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#events = deps.events;
  }

  /** Dry run: parse + semantic checks; stores nothing. Throws for unparseable/too large input. */
  validate(scope: string, submission: ConfigSubmission): ValidateResult {
    const parsed = parseSubmission(submission);
    switch (parsed.kind) {
      case 'ok':
        return {
          valid: true,
          issues: [],
          digest: parsed.digest,
          sizeBytes: parsed.sizeBytes,
          diff: diffAgainstActive(this.#repo, scope, parsed.config),
        };
      case 'invalid':
        return { valid: false, issues: parsed.issues, digest: null, sizeBytes: null, diff: null };
      default:
        throw submissionError(parsed.kind, parsed.issues);
    }
  }

  /**
   * Stores a new generation (seq = next of the scope, parent = the active seq at that time),
   * or returns the existing one with the same digest (deduplicated: true, nothing written).
   * Throws config_invalid (422) with issues, config_unparseable (400), payload_too_large (413).
   */
  create(scope: string, submission: ConfigSubmission, who: Actor): CreateResult {
    const parsed = parseSubmission(submission);
    if (parsed.kind !== 'ok') {
      if (parsed.kind === 'invalid') {
        throw new CpError('config_invalid', `config has ${parsed.issues.length} issue(s)`, { issues: parsed.issues });
      }
      throw submissionError(parsed.kind, parsed.issues);
    }
    return this.#repo.transaction(() => {
      const existing = this.#repo.findByDigest(scope, parsed.digest);
      if (existing) return { generation: existing, deduplicated: true };
      const record: GenerationRecord = {
        scope,
        seq: this.#repo.reserveSeq(scope),
        digest: parsed.digest,
        payload: parsed.canonical,
        sizeBytes: parsed.sizeBytes,
        author: who.actor,
        reason: who.reason,
        createdAt: this.#clock.now().toISOString(),
        parentSeq: this.#repo.getActive(scope)?.seq ?? null,
        failedReason: null,
      };
      this.#repo.insertGeneration(record);
      // Activating it next needs its parsed form (diff, schema version): it is this one.
      rememberStoredConfig(record.digest, parsed.config);
      this.#audit.append({
        at: record.createdAt,
        actor: who.actor,
        action: 'generation.create',
        scope,
        detail: { seq: record.seq, digest: record.digest, reason: who.reason, sizeBytes: record.sizeBytes },
      });
      this.#events?.append({
        type: 'generation.created',
        scope,
        at: record.createdAt,
        data: { seq: record.seq, digest: record.digest, author: who.actor, sizeBytes: record.sizeBytes },
      });
      const { payload: _payload, ...meta } = record;
      return { generation: meta, deduplicated: false };
    });
  }

  /** Every scope that has reserved a seq (has or had a generation), by name. */
  scopes(): string[] {
    return this.#repo.listScopes();
  }

  /** History, newest first. `limit` is clamped to 1..MAX_PAGE_SIZE. */
  list(scope: string, limit: number = DEFAULT_PAGE_SIZE, before: number | null = null): GenerationPage {
    const size = Math.min(Math.max(Math.trunc(limit), 1), MAX_PAGE_SIZE);
    const rows = this.#repo.listGenerations(scope, size + 1, before);
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return { items, next: rows.length > size && last ? last.seq : null };
  }

  /** Field-level changes between two generations (GET …/diff); throws generation_not_found. */
  diff(scope: string, from: GenerationSelector, to: GenerationSelector): DiffResult {
    return diffGenerations(this.#repo, scope, from, to);
  }

  /** Where each sample request routes under `from` and `to` (POST …/diff/behaviour). */
  behaviourDiff(scope: string, from: GenerationSelector, to: GenerationSelector, requests: readonly ProbeRequest[]): BehaviourDiffResult {
    return behaviourBetween(this.#repo, scope, from, to, requests);
  }

  /** One generation with its canonical JSON text; throws generation_not_found. */
  get(scope: string, seq: number): GenerationRecord {
    const record = this.#repo.getGeneration(scope, seq);
    if (!record) throw new CpError('generation_not_found', `scope ${scope} has no generation ${seq}`);
    return record;
  }
}

function submissionError(kind: 'unparseable' | 'too_large', issues: readonly ConfigIssue[]): CpError {
  return kind === 'too_large'
    ? new CpError('payload_too_large', issues[0]?.message ?? 'config too large', { issues })
    : new CpError('config_unparseable', issues[0]?.message ?? 'config could not be parsed', { issues });
}
