#!/usr/bin/env bash
# The main job on the test ground: build Terrane, install the CRDs, start the
# controller, apply deploy/examples/networking.yaml into namespace terrane-demo
# and web-tier.yaml into terrane-web, and wait until every object is Ready. Assumes `ground.sh up` ran (ground.sh demo does both).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.env"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export KUBECONFIG="$GROUND_DIR/kube/kubeconfig"
KUBECTL="$HOME/.cache/terrane/kube/$KUBE_VERSION/bin/kubectl"
NS="${TERRANE_DEMO_NAMESPACE:-terrane-demo}"
WEB_NS="${TERRANE_WEB_NAMESPACE:-terrane-web}"

(cd "$ROOT" && cargo build -q --bin terrane)
"$KUBECTL" apply -k "$ROOT/crds/yaml" >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s crd -l '!nothing' >/dev/null 2>&1 || true

stop_daemon terrane-controller
start_daemon terrane-controller "$CARGO_TARGET_DIR/debug/terrane" controller --metrics-addr 127.0.0.1:9464
log "controller running (log: $LOG_DIR/terrane-controller.log, metrics: http://127.0.0.1:9464/metrics)"

# demo NAMESPACE EXAMPLE: apply one example into its own namespace and wait
# until every Terrane object of the namespace (category `terrane`) is Ready.
demo() {
  local ns="$1" example="$2" t0
  "$KUBECTL" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  "$KUBECTL" -n "$ns" create secret generic cloud-credentials --from-file=clouds.yaml="$GROUND_DIR/clouds.yaml" \
    --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  t0=$(date +%s)
  "$KUBECTL" -n "$ns" apply -f "$ROOT/deploy/examples/provider-config.yaml" -f "$ROOT/deploy/examples/$example"
  "$KUBECTL" -n "$ns" wait --for=condition=Ready --timeout=300s terrane --all >/dev/null
  log "$example: every object Ready in $(( $(date +%s) - t0 ))s"
  "$KUBECTL" -n "$ns" get terrane
}
demo "$NS" networking.yaml
demo "$WEB_NS" web-tier.yaml
cat <<MSG

Try:  eval "\$(tests/ground/ground.sh env)"; kubectl -n $WEB_NS get terrane
      openstack --os-cloud demo server list
      dig +short @127.0.0.1 www.web.example.org
      kubectl delete namespace $NS $WEB_NS     # deletes every cloud object they made
MSG
