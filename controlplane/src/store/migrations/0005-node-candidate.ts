/**
 * Migration 5: the candidate generation a node holds beside the one it serves (staged rollout,
 * in-node canary), as its Hello, candidate Ack and Reports say: JSON `{seq, digest, percent}`,
 * NULL when it holds none (and for rows written before this migration, until the node next
 * reports). Shown by GET /v1/nodes; never counted as serving.
 */
export const migration0005 = {
  version: 5,
  name: 'node-candidate',
  sql: `
ALTER TABLE nodes ADD COLUMN candidate TEXT;
`,
} as const;
