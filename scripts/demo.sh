#!/usr/bin/env bash
# Brings up the local mesh (NATS, Redis, control plane, edges and relays in two regions)
# and the demo page, and prints the URLs to open. With --prometheus, also a Prometheus
# scraping every process with Kaskade's alert rules. Installs what it needs first.
# Ctrl-C stops everything.
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
packages=(nats-server redis-server openssl)
for arg in "$@"; do [ "$arg" = --prometheus ] && packages+=(prometheus); done
ensure_apt "${packages[@]}"
ensure_node
ensure_npm_deps
node client-sdk/build.ts >/dev/null
node control-plane/server-sdk/build.ts >/dev/null # the demo backend mints tokens with it, as an application would
exec node scripts/demo.ts "$@"
