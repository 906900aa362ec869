#!/usr/bin/env bash
# The demo: installs what is missing (Node 24, dependencies), then starts a control plane, a data
# plane and two origins on loopback and prints how to use them. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
exec node scripts/demo.ts "$@"
