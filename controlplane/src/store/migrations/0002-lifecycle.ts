/**
 * Migration 2: the config lifecycle. Last-known-good per scope, generations rejected by a node
 * (failed), idempotency records of mutating REST calls, a bounded history per node, and the
 * bounded event log behind GET /v1/events (AUTOINCREMENT: an id is never handed out twice, even
 * after the oldest events were pruned, so SSE cursors stay meaningful).
 */
export const migration0002 = {
  version: 2,
  name: 'lifecycle',
  sql: `
CREATE TABLE lkg (
  scope  TEXT PRIMARY KEY REFERENCES scopes(scope),
  seq    INTEGER NOT NULL,
  digest TEXT NOT NULL,
  at     TEXT NOT NULL,
  FOREIGN KEY (scope, seq) REFERENCES generations (scope, seq)
) STRICT;

CREATE TABLE generation_failures (
  scope   TEXT NOT NULL,
  seq     INTEGER NOT NULL,
  reason  TEXT NOT NULL,
  node_id TEXT NOT NULL,
  at      TEXT NOT NULL,
  PRIMARY KEY (scope, seq),
  FOREIGN KEY (scope, seq) REFERENCES generations (scope, seq)
) STRICT;

CREATE TABLE idempotency_keys (
  principal   TEXT NOT NULL,
  key         TEXT NOT NULL,
  method      TEXT NOT NULL,
  path        TEXT NOT NULL,
  body_sha256 TEXT NOT NULL,
  status      INTEGER,
  headers     TEXT,
  body        TEXT,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (principal, key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE node_events (
  id      INTEGER PRIMARY KEY,
  node_id TEXT NOT NULL,
  boot_id TEXT NOT NULL,
  kind    TEXT NOT NULL,
  seq     INTEGER,
  digest  TEXT,
  phase   TEXT,
  at      TEXT NOT NULL
) STRICT;
CREATE INDEX node_events_node ON node_events (node_id, id);

CREATE TABLE events (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  type  TEXT NOT NULL,
  scope TEXT,
  data  TEXT NOT NULL,
  at    TEXT NOT NULL
) STRICT;
CREATE INDEX events_scope ON events (scope, id);
`,
} as const;
