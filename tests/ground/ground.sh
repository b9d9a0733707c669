#!/usr/bin/env bash
# The test ground: a real kube-apiserver (+ etcd, kube-controller-manager) and a
# real OpenStack cloud on 127.0.0.1, installed and started by this project.
#
#   ground.sh up       install what is missing, start what is not running
#   ground.sh status   each API answering? (exit 1 if not)
#   ground.sh down     stop exactly the daemons the ground started
#   ground.sh env      print the variables that point tools at the ground
#   ground.sh test     up, then style checks (fmt, clippy) and the whole test suite (what CI runs)
#   ground.sh demo     up, then the controller applies deploy/examples and waits for Ready
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.env"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
GROUND_BIN="$CARGO_TARGET_DIR/debug/terrane-ground"

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not on PATH (install Rust with rustup)"
  # The style checks of `test`; already there with rustup's default profile.
  if command -v rustup >/dev/null && ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  fi
}

ground_bin() {
  (cd "$ROOT" && cargo build -q -p terrane-testground --bin terrane-ground)
}

up() {
  local t0; t0=$(date +%s)
  ensure_rust
  "$HERE/install-openstack.sh"
  "$HERE/build-kube.sh"
  ground_bin
  "$GROUND_BIN" kube up
  "$HERE/start-openstack.sh"
  log "ground up in $(( $(date +%s) - t0 ))s"
}

down() {
  [ -x "$GROUND_BIN" ] && "$GROUND_BIN" kube down || true
  "$HERE/stop-openstack.sh"
}

print_env() {
  echo "export KUBECONFIG=$GROUND_DIR/kube/kubeconfig"
  echo "export OS_CLIENT_CONFIG_FILE=$GROUND_DIR/clouds.yaml"
  echo "export PATH=$HOME/.cache/terrane/kube/$KUBE_VERSION/bin:\$PATH"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) "$HERE/status.sh" ;;
  env) print_env ;;
  test)
    up
    # The tests run their own controllers, one per namespace; a cluster-wide
    # demo controller would race them.
    stop_daemon terrane-controller
    cd "$ROOT"
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -q -- -D warnings
    cargo test --workspace --features failpoints --no-fail-fast -- --test-threads="${TEST_THREADS:-4}"
    ;;
  demo)
    up
    exec "$HERE/demo.sh"
    ;;
  *) echo "usage: $0 up|status|down|env|test|demo" >&2; exit 2 ;;
esac
