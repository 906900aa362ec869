/**
 * Migration 3: staged rollout (docs/rollout.md §4). Versioned rollout policies per scope (the
 * newest version is current; a scope without a row uses the default policy); rollouts with their
 * persisted state (status is a column so the partial unique index can allow at most one live
 * rollout per scope); the append-only decision log; the outbox of effects written in the same
 * transaction as the state and carried out afterwards; and the per-scope freeze state. Policies
 * name no generation, so they may exist before a scope's first generation (no foreign key).
 * `ord` columns are explicit INTEGER PRIMARY KEYs because listing and the outbox are in write
 * order, and an implicit rowid may be renumbered by VACUUM.
 */
export const migration0003 = {
  version: 3,
  name: 'rollouts',
  sql: `
CREATE TABLE rollout_policies (
  scope      TEXT NOT NULL,
  version    INTEGER NOT NULL CHECK (version > 0),
  document   TEXT NOT NULL,
  author     TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (scope, version)
) STRICT;

CREATE TABLE rollouts (
  ord            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  scope          TEXT NOT NULL,
  target_seq     INTEGER NOT NULL,
  lkg_seq        INTEGER NOT NULL,
  policy_version INTEGER NOT NULL CHECK (policy_version >= 0),
  status         TEXT NOT NULL CHECK (status IN ('running', 'paused', 'promoted', 'rolled_back', 'aborted')),
  state          TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  FOREIGN KEY (scope, target_seq) REFERENCES generations (scope, seq),
  FOREIGN KEY (scope, lkg_seq) REFERENCES generations (scope, seq)
) STRICT;
CREATE UNIQUE INDEX rollouts_one_live ON rollouts (scope) WHERE status IN ('running', 'paused');
CREATE INDEX rollouts_scope ON rollouts (scope);

CREATE TABLE rollout_decisions (
  rollout_id TEXT NOT NULL REFERENCES rollouts (id),
  n          INTEGER NOT NULL CHECK (n >= 0),
  line       TEXT NOT NULL,
  PRIMARY KEY (rollout_id, n)
) STRICT;
CREATE TRIGGER rollout_decisions_append_only_u BEFORE UPDATE ON rollout_decisions BEGIN SELECT RAISE(ABORT, 'rollout decisions are append-only'); END;
CREATE TRIGGER rollout_decisions_append_only_d BEFORE DELETE ON rollout_decisions BEGIN SELECT RAISE(ABORT, 'rollout decisions are append-only'); END;

CREATE TABLE rollout_effects (
  ord        INTEGER PRIMARY KEY,
  rollout_id TEXT NOT NULL REFERENCES rollouts (id),
  n          INTEGER NOT NULL CHECK (n >= 0),
  effect     TEXT NOT NULL,
  done       INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
  UNIQUE (rollout_id, n)
) STRICT;
CREATE INDEX rollout_effects_pending ON rollout_effects (done) WHERE done = 0;

CREATE TABLE scope_freeze (
  scope           TEXT PRIMARY KEY,
  rollback_streak INTEGER NOT NULL CHECK (rollback_streak >= 0),
  frozen          INTEGER NOT NULL CHECK (frozen IN (0, 1)),
  frozen_at       TEXT,
  reason          TEXT,
  CHECK ((frozen = 1) = (frozen_at IS NOT NULL))
) STRICT;
`,
} as const;
