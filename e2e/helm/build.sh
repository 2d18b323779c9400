#!/usr/bin/env bash
# Builds helm from the Go module pinned in go.mod (helm.sh/helm/v3), once: the binary is cached
# under ~/.cache/mtopo/helm-<helm version>-<hash of the build inputs>/helm, so only the first run
# (or a change to go.mod, go.sum or this script) pays for the build. Prints the binary's path on
# stdout; everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")"

# The machine's Go lives here when it is not on PATH (a fresh CI shell).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=/usr/local/go/bin:$PATH
fi
# Never rewrite go.mod/go.sum or stamp the repo's git state into a build, and never fetch another Go toolchain.
export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0

helm_version=$(awk '$1 == "helm.sh/helm/v3" { print $2 }' go.mod)
client_go_version=$(awk '$1 == "k8s.io/client-go" { print $2 }' go.mod)
if [ -z "$helm_version" ] || [ -z "$client_go_version" ]; then
  echo "build.sh: helm.sh/helm/v3 or k8s.io/client-go is not in go.mod" >&2
  exit 1
fi
# Everything that decides what gets built: the pins and this script's flags.
inputs_hash=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-12)
cache_root=${MTOPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mtopo}
helm_dir=$cache_root/helm-$helm_version-$inputs_hash
binary=$helm_dir/helm

if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi

echo "build.sh: building helm $helm_version into $helm_dir (first run only)" >&2
mkdir -p "$helm_dir"
# Build into a scratch file and rename it into place, so an interrupted build never looks cached.
scratch=$(mktemp "$helm_dir/helm.partial.XXXXXX")
trap 'rm -f "$scratch"' EXIT

# What helm's own Makefile stamps: its version, and the Kubernetes version that `helm template` and
# `helm lint` assume without a cluster (client-go v0.N.x is Kubernetes 1.N).
IFS=. read -r _ k8s_minor _ <<<"${client_go_version#v}"
ldflags="-s -w"
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$helm_version"
ldflags+=" -X helm.sh/helm/v3/internal/version.metadata="
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

started=$(date +%s)
go build -trimpath -ldflags="$ldflags" -o "$scratch" helm.sh/helm/v3/cmd/helm
build_seconds=$(($(date +%s) - started))

mv "$scratch" "$binary"
echo "$build_seconds" >"$helm_dir/build-seconds"
echo "build.sh: built in ${build_seconds}s" >&2
echo "$binary"
