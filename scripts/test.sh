#!/usr/bin/env bash
# Runs the whole test suite: lint, types, the SDK build, unit, integration,
# real-browser and deployment tests (the Helm chart, the OCI image). Installs what it
# needs first (Node 24, npm packages, Debian's chromium, firefox-esr, iproute2,
# nats-server, redis-server, openssl, ffmpeg, prometheus, buildah and debootstrap; k6
# and helm with go install; the Kubernetes schema validator with pip).
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ensure_apt chromium firefox-esr iproute2 nats-server redis-server openssl ffmpeg prometheus buildah debootstrap
ensure_node
ensure_npm_deps
# k6 for the load-test scripts' check in the suite (built with go install the first time).
export PATH="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"
node loadtest/k6-run.ts --install-only
# helm (go install of a pinned version), kubernetes-validate and the CRD schemas the chart is checked against.
bash deploy/helm/install-tools.sh
exec npm test --silent
