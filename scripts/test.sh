#!/usr/bin/env bash
# The whole test suite: installs what is missing (Node 24, dependencies), then checks that
# generated code is fresh, typechecks, lints, enforces the dependency rule and runs every test
# (unit, in-process API, end-to-end with real processes). Fails when the install step left
# package-lock.json different from git HEAD. Exit code 0 = all green.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

echo "== node $(node -v)"
# A fresh install of a clean clone must write exactly the committed lock (CI installs from it);
# an install that changed it means the lock in git is not what npm resolves: commit the new one.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet HEAD -- package-lock.json; then
  echo "error: package-lock.json differs from git HEAD after the install step; commit the lock npm wrote" >&2
  echo "       (git diff -- package-lock.json shows what changed)" >&2
  exit 1
fi
echo "== proto/gen freshness"; npm run --silent generate:check -w @spooky/proto
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx biome lint --error-on-warnings .
echo "== dependency rule"; npx depcruise --config .dependency-cruiser.cjs config proto plumbing dataplane controlplane test bench
echo "== tests"
node --test --test-concurrency=1 --test-timeout=120000 \
  'config/src/**/*.test.ts' 'plumbing/src/**/*.test.ts' 'dataplane/src/**/*.test.ts' 'controlplane/src/**/*.test.ts' 'bench/src/**/*.test.ts' 'test/src/**/*.test.ts'
