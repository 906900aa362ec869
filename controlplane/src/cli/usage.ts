/** The help text printed by `spookyctl help` and after a usage error. */
export const USAGE = `spookyctl — drive a Spooky control plane from a shell or CI (never prompts)

Usage: spookyctl <command> [options]

Config
  validate FILE [--offline]          check a config (YAML or JSON); stores nothing; --offline
                                     runs the same checks locally (no server, no token)
  lint FILE                          validate FILE --offline
  plan FILE [--detailed-exitcode]    validate + what would change against the active generation
  push FILE --reason R [--activate [--wait [--timeout D] [--min-nodes N] [--require-nodes a,b]]]
                                     store FILE as a generation (idempotent per file + reason)
Activation
  activate SEQ --reason R [--wait …] [--force] [--dry-run] [--if-match VERSION] [--immediate]
  activate SEQ --staged --reason R [--policy FILE] [--abort-live] [--wait [--timeout D]]
                                     staged rollout (202): --wait exits 0 promoted, 5 rolled back
                                     or aborted, 6 timed out (default 30m); without --staged or
                                     --immediate the scope's default applies
  rollback --to previous|lkg|SEQ --reason R [--wait …] [--force] [--if-match VERSION]
                                     previous = the newest earlier generation the scope did not
                                     leave by a rollback (twice: 3 → 2 → 1, never back to 3)
Staged rollouts
  rollout list [--limit N]           rollouts of the scope, newest first
  rollout get ID                     stages, node counts, failed gate numbers
  rollout wait ID [--timeout D]      exit 0 promoted, 5 rolled back or aborted, 6 timed out
  rollout pause|resume|promote|abort ID --reason R
  policy get                         the scope's rollout policy and its ETag
  policy set FILE --reason R [--if-match VERSION]
                                     store a rollout policy (YAML or JSON)
  unfreeze --reason R                lift a freeze left by automatic rollbacks
Inspection
  status                             fleet convergence of the scope
  nodes                              data planes of the scope
  diff FROM TO [--requests FILE] [--detailed-exitcode]
                                     field-level diff; each side a seq or "active"; with
                                     --requests, which sample requests change upstream
  history [--limit N]                generations, newest first
  audit verify                       check the audit hash chain
Tokens (local tokens file, no server call)
  tokens create --name N --permissions a,b --scopes s1,s2 [--expires ISO-8601] --file TOKENS_FILE
  tokens revoke --name N --file TOKENS_FILE
  tokens list --file TOKENS_FILE     name, permissions, scopes, expiry, creation (never a secret)
Dev PKI (runs the system openssl in DIR; keys 0600, never printed; --force replaces files)
  pki init-ca --dir DIR [--days N]   CA: DIR/ca.crt, DIR/ca.key (default 365 days)
  pki server --dir DIR [--name cp] [--san DNS:localhost,IP:127.0.0.1,IP:::1] [--days N]
                                     control-plane server certificate DIR/NAME.crt|key (serverAuth)
  pki node --dir DIR --scope S --node-id N [--name B] [--days N]
                                     data-plane certificate DIR/node-S-N.crt|key (clientAuth),
                                     SAN URI spiffe://spooky/scope/S/node/N
  pki client --dir DIR --name N [--san …] [--days N]
                                     REST mTLS caller certificate DIR/N.crt|key (clientAuth)

Global options
  --server URL        control plane REST address (env SPOOKY_SERVER, default http://127.0.0.1:8080)
  --token T           bearer token (env SPOOKY_TOKEN; prefer the env variable: argv is visible to ps)
  --scope S           scope (env SPOOKY_SCOPE, default "default")
  --json              one JSON document on stdout, for every command and every error
  --idempotency-key K key for mutations (default: random; push uses sha256 of scope + file + reason,
                      rollback of scope + --to + --force + reason: a retried job replays, prints
                      "already rolled back … nothing moved" and exits 0 — or 4 if the pointer
                      moved since; a new rollback within 24 h needs another reason or key)
  --ca-file FILE      trust only the CA(s) in FILE for an https:// --server, instead of the system
                      roots (env SPOOKY_CA_FILE)
  --cert FILE --key FILE
                      client certificate and key for a control plane that requires one
                      (env SPOOKY_CLIENT_CERT, SPOOKY_CLIENT_KEY); the token is still needed

help --json prints the commands, options and exit codes as JSON. validate --offline and lint
answer like validate (same issues, digest and exit codes) without diff, which needs the server.

--wait polls until every connected node of the scope serves the target (exit 0), a node NACKs
it (exit 5, with the node's issues) or the timeout passes (exit 6; default 60s). --min-nodes N
(default 0) and --require-nodes a,b also need at least N connected nodes serving the target and
each named node among them, else exit 6 at the timeout. With no connected node and no
--min-nodes it succeeds at once with a warning (nothing verified); stale and disconnected nodes
are listed, not awaited. --force activates a generation marked failed. --abort-live (activate
--immediate, rollback) aborts the scope's live staged rollout instead of failing with exit 4.

Exit codes: 0 ok · 1 error (network, TLS, server, usage) · 2 changes pending (plan --detailed-exitcode)
· 3 config invalid · 4 conflict or precondition failed · 5 rejected by the fleet (NACK) or rolled
back · 6 timed out waiting (incl. --min-nodes / --require-nodes not met) · 7 forbidden (401/403)
`;
