#!/usr/bin/env bash
# Load tests and benchmarks, installing what they need first:
#   ./scripts/loadtest.sh lecture [--regions 2] [--edges 2] [--relays 1] [--viewers 200] [--seconds 20]
#   ./scripts/loadtest.sh meeting [--participants 100] [--baseline-n 24] [--seconds 20]
#   ./scripts/loadtest.sh k6 [--joins 200] [--vus 20]
#   ./scripts/loadtest.sh faults [--viewers 100] [--scenarios tree-change,drain,...]
# Reports go to loadtest/reports/.
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"
ensure_apt nats-server redis-server openssl ffmpeg gcc
ensure_node
ensure_npm_deps
export PATH="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"
case "${1:-}" in
  lecture) shift; exec node loadtest/lecture-bench.ts "$@" ;;
  meeting) shift; exec node loadtest/meeting-bench.ts "$@" ;;
  k6) shift; exec node loadtest/k6-run.ts "$@" ;;
  faults) shift; exec node loadtest/faults-bench.ts "$@" ;;
  *) echo "usage: $0 lecture|meeting|k6|faults [options]" >&2; exit 2 ;;
esac
