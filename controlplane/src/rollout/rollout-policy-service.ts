/**
 * The rollout policy of each scope as the REST API reads and writes it (docs/rollout.md §1):
 * versioned like configs, a scope without a stored version has DEFAULT_ROLLOUT_POLICY at
 * version 0. A write validates with the strict `parseRolloutPolicy` (every issue with a JSON
 * Pointer), then stores the normalised policy (defaults filled in, so a later change of a
 * default never changes a stored policy) as the next version and appends the audit entry in
 * ONE transaction, compare-and-swap on the version the caller read. Only policies are stored
 * here: no rollout is started or driven yet.
 */
import { CpError } from '../errors.ts';
import type { AuditLog, Clock } from '../generations/ports.ts';
import { DEFAULT_ROLLOUT_POLICY, parseRolloutPolicy, type RolloutPolicy } from './rollout-policy.ts';
import { PolicyVersionConflict, type RolloutRepo } from './rollout-ports.ts';

/** The policy in force for a scope. */
export interface CurrentPolicy {
  readonly scope: string;
  /** 0 while none is stored (then `isDefault`); the ETag. */
  readonly version: number;
  readonly isDefault: boolean;
  readonly policy: RolloutPolicy;
  readonly author: string | null;
  readonly reason: string | null;
  readonly createdAt: string | null;
}

export interface PolicyWriter {
  readonly actor: string;
  readonly reason: string;
}

export class RolloutPolicyService {
  readonly #repo: RolloutRepo;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(deps: { readonly repo: RolloutRepo; readonly audit: AuditLog; readonly clock: Clock }) {
    this.#repo = deps.repo;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
  }

  /** The newest stored version, or the default policy at version 0. */
  current(scope: string): CurrentPolicy {
    const stored = this.#repo.currentPolicy(scope);
    if (stored === null) {
      return { scope, version: 0, isDefault: true, policy: DEFAULT_ROLLOUT_POLICY, author: null, reason: null, createdAt: null };
    }
    return { ...stored, isDefault: false };
  }

  /**
   * Stores `document` (parsed JSON) as the scope's next version if the current version is still
   * `expectedVersion` (0 before the first). Throws rollout_policy_invalid (422, with every issue)
   * before looking at the version, and rollout_policy_changed (412) when the version moved.
   */
  put(scope: string, document: unknown, expectedVersion: number, who: PolicyWriter): CurrentPolicy {
    const parsed = parseRolloutPolicy(document);
    if (!parsed.ok) {
      const first = parsed.issues[0];
      const where = first ? `: ${first.pointer === '' ? '/' : first.pointer} ${first.message}` : '';
      throw new CpError('rollout_policy_invalid', `the rollout policy has ${parsed.issues.length} issue(s)${where}`, {
        issues: parsed.issues,
      });
    }
    const at = this.#clock.now().toISOString();
    return this.#repo.transaction(() => {
      let stored: ReturnType<RolloutRepo['putPolicy']>;
      try {
        stored = this.#repo.putPolicy(scope, parsed.policy, { author: who.actor, reason: who.reason, at }, expectedVersion);
      } catch (err) {
        if (!(err instanceof PolicyVersionConflict)) throw err;
        throw new CpError('rollout_policy_changed', `the rollout policy of scope ${scope} is at version ${err.current}; read it again`, {
          extensions: { currentVersion: err.current },
        });
      }
      this.#audit.append({
        at,
        actor: who.actor,
        action: 'rollout_policy.set',
        scope,
        detail: { version: stored.version, fromVersion: stored.version - 1, reason: who.reason, stages: stored.policy.stages.map((s) => s.name) },
      });
      return { ...stored, isDefault: false };
    });
  }
}
