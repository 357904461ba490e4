#!/usr/bin/env bash
# Installs what the chart's tests need (test/deploy/helm-chart.test.ts, deploy/helm/validate.ts),
# idempotently; a rerun with everything in place takes about a second:
#   - helm, pinned, built with go install into Go's bin folder (like k6; a few minutes the first time);
#   - kubernetes-validate (the Kubernetes OpenAPI schemas, offline) in a Python venv in the cache dir;
#   - the CRDs the custom resources are checked against: KEDA's ScaledObject and
#     prometheus-operator's PodMonitor / ServiceMonitor / PrometheusRule, taken from their Go
#     modules (go mod download) and copied into the cache dir.
# The cache dir is outside the repository: $KASKADE_HELM_CACHE, default ~/.cache/kaskade-helm.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBERNETES_VALIDATE_VERSION=1.37.0
KEDA_MODULE=github.com/kedacore/keda/v2@v2.18.0
PROMETHEUS_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator@v0.85.0

CACHE="${KASKADE_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kaskade-helm}"
GOBIN_DIR="$(go env GOPATH)/bin"
log() { printf '\033[1;34m[helm-tools]\033[0m %s\n' "$*" >&2; }
mkdir -p "$CACHE"

# helm: the binary's embedded module version says whether it is the pinned one.
helm_bin="$GOBIN_DIR/helm"
if [ -x "$helm_bin" ] && go version -m "$helm_bin" 2>/dev/null | grep -qE "^\s+mod\s+helm.sh/helm/v3\s+$HELM_VERSION(\s|$)"; then
  log "helm $HELM_VERSION: $helm_bin"
else
  log "helm $HELM_VERSION: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes the first time)"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

# kubernetes-validate in a venv of its own (the stamp says which version it holds).
venv="$CACHE/venv"
if [ "$(cat "$venv/.kaskade-stamp" 2>/dev/null)" = "$KUBERNETES_VALIDATE_VERSION" ]; then
  log "kubernetes-validate $KUBERNETES_VALIDATE_VERSION: $venv"
else
  log "kubernetes-validate $KUBERNETES_VALIDATE_VERSION: pip install into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  echo "$KUBERNETES_VALIDATE_VERSION" > "$venv/.kaskade-stamp"
fi

# CRDs from the modules' zips (config/crd/bases, example/prometheus-operator-crd).
crds="$CACHE/crds"
stamp="$KEDA_MODULE $PROMETHEUS_OPERATOR_MODULE"
if [ "$(cat "$crds/.kaskade-stamp" 2>/dev/null)" = "$stamp" ]; then
  log "CRDs ($stamp): $crds"
else
  log "CRDs: go mod download $KEDA_MODULE $PROMETHEUS_OPERATOR_MODULE"
  module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("Error")) if d.get("Error") else print(d["Dir"])'; }
  keda_dir="$(module_dir "$KEDA_MODULE")"
  po_dir="$(module_dir "$PROMETHEUS_OPERATOR_MODULE")"
  rm -rf "$crds" && mkdir -p "$crds"
  cp "$keda_dir/config/crd/bases/keda.sh_scaledobjects.yaml" "$crds/"
  for kind in podmonitors servicemonitors prometheusrules; do
    cp "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds/"
  done
  echo "$stamp" > "$crds/.kaskade-stamp"
fi
log "ready: $CACHE"
