#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kubectl of one pinned Kubernetes release from the
# Go module proxy, into $HOME/.cache/terrane/kube/<version>/bin (idempotent).
#
# `go install k8s.io/kubernetes/cmd/...@vX` is refused because k8s.io/kubernetes
# requires its staging modules as v0.0.0 with replace directives, so this
# writes a small wrapper module that replaces each staging module with the
# published v0.<minor>.<patch> of the same release.
set -euo pipefail
source "$(dirname "$0")/versions.env"

V="$KUBE_VERSION"                       # e.g. v1.36.3
STAGING_V="v0.${V#v1.}"                 # e.g. v0.36.3
ROOT="${TERRANE_CACHE:-$HOME/.cache/terrane}/kube/$V"
BIN="$ROOT/bin"
if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kubectl" ] && [ -x "$BIN/kube-controller-manager" ]; then
  echo "kube $V: already built"
  exit 0
fi

export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$HOME/.cache/terrane/gomod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$HOME/.cache/terrane/gobuild}"
export GOFLAGS="-mod=mod"
export GOTOOLCHAIN=local
mkdir -p "$ROOT/src" "$BIN"
cd "$ROOT/src"

gomod=$(go mod download -json "k8s.io/kubernetes@$V" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$gomod" ] || { echo "cannot download k8s.io/kubernetes@$V" >&2; exit 1; }

{
  echo "module terrane.dev/kube-build"
  echo
  echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
  echo
  echo "require k8s.io/kubernetes $V"
  echo
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" \
    | awk -v sv="$STAGING_V" '{print "replace " $1 " => " $1 " " sv}'
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
go mod tidy

minor="${V#v1.}"; minor="${minor%%.*}"
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $pkg.gitVersion=$V -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
go build -p "${KUBE_BUILD_JOBS:-2}" -trimpath -ldflags "$ld" -o "$BIN/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kube-controller-manager
"$BIN/kube-apiserver" --version
# The binaries are what is kept; the module cache stays for a fast rebuild of
# another release, the 3 GB of compiled packages do not.
go clean -cache
echo "kube $V: built into $BIN"
