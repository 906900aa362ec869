#!/bin/sh
# Writes the dev overlay's certificates and tokens into DIR (default: pki/ beside this script) with
# `spookyctl pki` and `spookyctl tokens` (Node 24 as `node` on PATH, openssl installed). Keeps what
# exists, so it can be re-run. The admin token is written once to DIR/admin-token.json (mode 0600),
# never printed. Node certificates for spooky-dataplane-0..N-1 (N = SPOOKY_DATAPLANES, default 2:
# the overlay's replicas; more need lines in kustomization.yaml's spooky-node-certs too).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
dir=${1:-$here/pki}
ns=${SPOOKY_NAMESPACE:-spooky-dev}
count=${SPOOKY_DATAPLANES:-2}
ctl() { node "$root/controlplane/src/cli/spookyctl.ts" "$@"; }
mkdir -p "$dir"
umask 077
[ -f "$dir/ca.crt" ] || ctl pki init-ca --dir "$dir" >/dev/null
# The control plane's certificate names the Service data planes dial (and the probes' loopback).
[ -f "$dir/cp.crt" ] || ctl pki server --dir "$dir" --name cp \
  --san "DNS:spooky-controlplane,DNS:spooky-controlplane.$ns.svc,DNS:spooky-controlplane.$ns.svc.cluster.local,DNS:localhost,IP:127.0.0.1" >/dev/null
# The listener certificate the generation names (/etc/spooky/listener/tls.crt).
[ -f "$dir/edge.crt" ] || ctl pki server --dir "$dir" --name edge --san "DNS:localhost,IP:127.0.0.1" >/dev/null
i=0
while [ "$i" -lt "$count" ]; do
  [ -f "$dir/node-default-spooky-dataplane-$i.crt" ] || ctl pki node --dir "$dir" --scope default --node-id "spooky-dataplane-$i" >/dev/null
  i=$((i + 1))
done
[ -f "$dir/tokens.json" ] || ctl tokens create --name admin --permissions admin --scopes '*' --file "$dir/tokens.json" --json > "$dir/admin-token.json"
echo "pki and tokens in $dir"
