#!/usr/bin/env bash
# Brings up the local setup (an edge with its mediasoup workers and the demo page)
# and prints the URL to open. Installs what it needs first. Ctrl-C stops it.
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ensure_node
ensure_npm_deps
node client-sdk/build.ts >/dev/null
exec node scripts/demo.ts
