/** Migration 1: generations, active pointer, activation log, audit chain, nodes. */
export const migration0001 = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE scopes (
  scope    TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE generations (
  scope      TEXT NOT NULL REFERENCES scopes(scope),
  seq        INTEGER NOT NULL CHECK (seq > 0),
  digest     TEXT NOT NULL,
  payload    TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  author     TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  parent_seq INTEGER,
  PRIMARY KEY (scope, seq)
) STRICT;
CREATE INDEX generations_scope_digest ON generations (scope, digest);

CREATE TABLE active (
  scope        TEXT PRIMARY KEY REFERENCES scopes(scope),
  seq          INTEGER NOT NULL,
  digest       TEXT NOT NULL,
  version      INTEGER NOT NULL CHECK (version > 0),
  activated_at TEXT NOT NULL,
  actor        TEXT NOT NULL,
  reason       TEXT NOT NULL,
  FOREIGN KEY (scope, seq) REFERENCES generations (scope, seq)
) STRICT;

CREATE TABLE activations (
  id      INTEGER PRIMARY KEY,
  scope   TEXT NOT NULL,
  seq     INTEGER NOT NULL,
  version INTEGER NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('activate', 'rollback')),
  actor   TEXT NOT NULL,
  reason  TEXT NOT NULL,
  at      TEXT NOT NULL,
  UNIQUE (scope, version),
  FOREIGN KEY (scope, seq) REFERENCES generations (scope, seq)
) STRICT;

CREATE TABLE audit (
  id        INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  scope     TEXT,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_scope ON audit (scope, id);

CREATE TRIGGER activations_append_only_u BEFORE UPDATE ON activations BEGIN SELECT RAISE(ABORT, 'activations are append-only'); END;
CREATE TRIGGER activations_append_only_d BEFORE DELETE ON activations BEGIN SELECT RAISE(ABORT, 'activations are append-only'); END;
CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

CREATE TABLE nodes (
  node_id        TEXT PRIMARY KEY,
  boot_id        TEXT NOT NULL,
  scope          TEXT NOT NULL,
  labels         TEXT NOT NULL,
  schema_min     INTEGER NOT NULL,
  schema_max     INTEGER NOT NULL,
  build          TEXT NOT NULL,
  serving_seq    INTEGER,
  serving_digest TEXT,
  source         TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('connected', 'disconnected')),
  connected_at   TEXT NOT NULL,
  last_seen_at   TEXT NOT NULL,
  last_ack       TEXT,
  last_nack      TEXT
) STRICT;
CREATE INDEX nodes_scope ON nodes (scope, node_id);
`,
} as const;
