#!/usr/bin/env bash
# Runs the whole test suite: lint, types, the SDK build, unit, integration and
# real-browser tests. Installs what it needs first (Node 24, npm packages, Debian's
# chromium, firefox-esr, iproute2, nats-server, redis-server, openssl, ffmpeg and prometheus; k6 with go
# install).
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ensure_apt chromium firefox-esr iproute2 nats-server redis-server openssl ffmpeg prometheus
ensure_node
ensure_npm_deps
# k6 for the load-test scripts' check in the suite (built with go install the first time).
export PATH="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"
node loadtest/k6-run.ts --install-only
exec npm test --silent
