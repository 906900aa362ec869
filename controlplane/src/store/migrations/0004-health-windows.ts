/**
 * Migration 4: the per-generation health windows data planes send in `Report`
 * (GenerationHealth), kept for the rollout gates (docs/rollout.md §3). Persisted so that a
 * control-plane restart in the middle of a soak keeps the soak's evidence. Pruned on insert by
 * SqliteHealthWindows (age and a per-node cap), so the table stays small. No foreign keys: a
 * node may report a generation of a scope this control plane has not stored (it is ignored by
 * the gates, which select by seq of the rollout's scope).
 */
export const migration0004 = {
  version: 4,
  name: 'health-windows',
  sql: `
CREATE TABLE node_health_windows (
  ord          INTEGER PRIMARY KEY,
  node_id      TEXT NOT NULL,
  scope        TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  digest       TEXT NOT NULL,
  from_ms      INTEGER NOT NULL,
  to_ms        INTEGER NOT NULL,
  requests     INTEGER NOT NULL CHECK (requests >= 0),
  local_5xx    INTEGER NOT NULL CHECK (local_5xx >= 0),
  upstream_5xx INTEGER NOT NULL CHECK (upstream_5xx >= 0),
  latency      TEXT NOT NULL,
  UNIQUE (node_id, seq, digest, from_ms)
) STRICT;
CREATE INDEX node_health_windows_node ON node_health_windows (node_id, to_ms);
`,
} as const;
