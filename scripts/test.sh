#!/usr/bin/env bash
# Runs the whole test suite: lint, types, the SDK build, unit, integration and
# real-browser tests. Installs what it needs first (Node 24, npm packages, Debian's
# chromium, firefox-esr, iproute2, nats-server and redis-server).
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ensure_apt chromium firefox-esr iproute2 nats-server redis-server
ensure_node
ensure_npm_deps
exec npm test --silent
