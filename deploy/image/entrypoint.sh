#!/bin/sh
# The image's entrypoint: `edge`, `relay` or `control-plane` runs that process; any
# other command (e.g. `node deploy/image/node-address.ts`, `sh`) runs as given.
# It execs Node, so Node is the container's PID 1 and gets SIGTERM itself: its own
# handlers drain the process (control-plane/node-toolkit/run-process.ts). Node reaps
# its only children, the mediasoup workers, so no init process is needed in between.
set -eu

# The chart's init container writes the node's public address here when it comes from
# a node label or annotation; a non-empty file wins over KASKADE_RTC_ANNOUNCED_ADDRESS
# from the pod spec (status.hostIP).
file="${KASKADE_RTC_ANNOUNCED_ADDRESS_FILE:-}"
if [ -n "$file" ]; then
  address="$(tr -d '[:space:]' 2>/dev/null < "$file" || true)"
  if [ -n "$address" ]; then
    export KASKADE_RTC_ANNOUNCED_ADDRESS="$address"
  else
    echo "entrypoint.sh: $file is missing or empty; KASKADE_RTC_ANNOUNCED_ADDRESS stays as set" >&2
  fi
fi

case "${1:-}" in
  edge) main=edge/src/main.ts ;;
  relay) main=relay/service/main.ts ;;
  control-plane) main=control-plane/service/main.ts ;;
  '' | -*)
    echo "usage: entrypoint.sh edge|relay|control-plane (or a command to run instead)" >&2
    exit 64 # EX_USAGE
    ;;
  *) exec "$@" ;;
esac
shift
exec node "/app/$main" "$@"
