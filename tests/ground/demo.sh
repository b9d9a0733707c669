#!/usr/bin/env bash
# The main job on the test ground: build Terrane, install the CRDs, start the
# controller, apply deploy/examples into namespace terrane-demo and wait until
# every object is Ready. Assumes `ground.sh up` ran (ground.sh demo does both).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.env"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export KUBECONFIG="$GROUND_DIR/kube/kubeconfig"
KUBECTL="$HOME/.cache/terrane/kube/$KUBE_VERSION/bin/kubectl"
NS="${TERRANE_DEMO_NAMESPACE:-terrane-demo}"

(cd "$ROOT" && cargo build -q --bin terrane)
"$KUBECTL" apply -k "$ROOT/crds/yaml" >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s crd -l '!nothing' >/dev/null 2>&1 || true

stop_daemon terrane-controller
start_daemon terrane-controller "$CARGO_TARGET_DIR/debug/terrane" controller --metrics-addr 127.0.0.1:9464
log "controller running (log: $LOG_DIR/terrane-controller.log, metrics: http://127.0.0.1:9464/metrics)"

"$KUBECTL" create namespace "$NS" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
"$KUBECTL" -n "$NS" create secret generic cloud-credentials --from-file=clouds.yaml="$GROUND_DIR/clouds.yaml" \
  --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
t0=$(date +%s)
"$KUBECTL" -n "$NS" apply -f "$ROOT/deploy/examples/provider-config.yaml" -f "$ROOT/deploy/examples/networking.yaml"
"$KUBECTL" -n "$NS" wait --for=condition=Ready --timeout=300s \
  networks,subnets,routers,routerinterfaces,securitygroups,ports,floatingips --all >/dev/null
log "every object Ready in $(( $(date +%s) - t0 ))s"
"$KUBECTL" -n "$NS" get terrane
cat <<MSG

Try:  eval "\$(tests/ground/ground.sh env)"; kubectl -n $NS get terrane
      openstack --os-cloud demo network list
      kubectl delete namespace $NS     # deletes every cloud object it made
MSG
