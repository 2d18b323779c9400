#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kubectl) from the
# Go modules pinned in go.mod, once: the binaries are cached under
# ~/.cache/mtopo/cluster-<kubernetes version>-<hash of the build inputs>/bin, so only the first run
# (or a change to go.mod, go.sum, cmd/ or this script) pays for the build. Prints that bin
# directory on stdout; everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")"

# The machine's Go lives here when it is not on PATH (a fresh CI shell).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=/usr/local/go/bin:$PATH
fi
# Never rewrite go.mod/go.sum or stamp the repo's git state into a build, and never fetch another Go toolchain.
export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local

kube_version=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' go.mod)
if [ -z "$kube_version" ]; then
  echo "build.sh: k8s.io/kubernetes is not in go.mod" >&2
  exit 1
fi
# Everything that decides what gets built: the pins, our etcd main, and this script's flags.
inputs_hash=$(cat go.mod go.sum cmd/etcd/*.go build.sh | sha256sum | cut -c1-12)
cache_root=${MTOPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mtopo}
cluster_dir=$cache_root/cluster-$kube_version-$inputs_hash
bin_dir=$cluster_dir/bin
binaries=(etcd kube-apiserver kube-controller-manager kubectl)

cached=true
for binary in "${binaries[@]}"; do
  [ -x "$bin_dir/$binary" ] || cached=false
done
if $cached; then
  echo "$bin_dir"
  exit 0
fi

echo "build.sh: building the $kube_version control plane into $bin_dir (first run only; takes a while)" >&2
mkdir -p "$cluster_dir"
# Build into a scratch directory and rename it into place, so an interrupted build never looks cached.
scratch_dir=$(mktemp -d "$cluster_dir/bin.partial.XXXXXX")
trap 'rm -rf "$scratch_dir"' EXIT

# What `kubectl version` and the apiserver's /version report (Kubernetes' own build sets the same).
version_ldflags=""
for version_pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_ldflags+=" -X $version_pkg.gitVersion=$kube_version"
  version_ldflags+=" -X $version_pkg.gitTreeState=clean"
done

started=$(date +%s)
go build -trimpath -ldflags="-s -w$version_ldflags" -o "$scratch_dir/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/etcd
build_seconds=$(($(date +%s) - started))

rm -rf "$bin_dir"
mv "$scratch_dir" "$bin_dir"
echo "$build_seconds" >"$cluster_dir/build-seconds"
echo "build.sh: built in ${build_seconds}s" >&2
echo "$bin_dir"
