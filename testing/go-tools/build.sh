#!/usr/bin/env bash
# Builds the Go programs a test harness needs (the control plane, helm, and later the node's
# daemons) from the modules pinned in a tool folder, once: the binaries are cached under
# ~/.cache/mtopo/<name>-<version>-<hash of the build inputs>/bin, so only the first run (or a change
# to the folder's go.mod, go.sum, cmd/, tool.sh or this script) pays for the build.
#
#   testing/go-tools/build.sh TOOL_DIR     prints the bin directory on stdout; progress on stderr
#
# TOOL_DIR holds go.mod, go.sum and tool.sh, which sets (it may read go.mod, the working directory):
#   tool_name       the cache folder's prefix
#   tool_version    the version the folder pins (part of the cache folder's name)
#   tool_packages   array: the Go packages to build (./cmd/… for mains of the folder's own)
#   tool_binaries   array: the binaries those packages make, to tell a complete cache
#   tool_ldflags    extra linker flags (version stamps)
#   tool_cgo        0 or 1 (default 0: static binaries)
set -euo pipefail
tool_dir=$(cd "${1:?usage: build.sh TOOL_DIR}" && pwd)
script=$(cd "$(dirname "$0")" && pwd)/build.sh
cd "$tool_dir"

# The machine's Go lives here when it is not on PATH (a fresh CI shell).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=/usr/local/go/bin:$PATH
fi

tool_ldflags="" tool_cgo=0
# shellcheck source=/dev/null
source ./tool.sh
if [ -z "${tool_name:-}" ] || [ -z "${tool_version:-}" ] || [ ${#tool_packages[@]} -eq 0 ]; then
  echo "build.sh: $tool_dir/tool.sh must set tool_name, tool_version and tool_packages" >&2
  exit 1
fi

# Everything that decides what gets built: the pins, the folder's own mains, its flags, this script.
inputs_hash=$(
  {
    cat go.mod go.sum tool.sh "$script"
    if [ -d cmd ]; then find cmd -type f -name '*.go' | LC_ALL=C sort | xargs cat; fi
  } | sha256sum | cut -c1-12
)
cache_root=${MTOPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mtopo}
tool_cache=$cache_root/$tool_name-$tool_version-$inputs_hash
bin_dir=$tool_cache/bin

cached=true
for binary in "${tool_binaries[@]}"; do
  [ -x "$bin_dir/$binary" ] || cached=false
done
if $cached; then
  echo "$bin_dir"
  exit 0
fi

echo "build.sh: building $tool_name $tool_version into $bin_dir (first run only; takes a while)" >&2
mkdir -p "$tool_cache"
# Build into a scratch directory and rename it into place, so an interrupted build never looks cached.
scratch_dir=$(mktemp -d "$tool_cache/bin.partial.XXXXXX")
trap 'rm -rf "$scratch_dir"' EXIT

started=$(date +%s)
# Never rewrite go.mod/go.sum, stamp the repo's git state into a build, or fetch another toolchain.
GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=$tool_cgo \
  go build -trimpath -ldflags="-s -w $tool_ldflags" -o "$scratch_dir/" "${tool_packages[@]}"
build_seconds=$(($(date +%s) - started))

rm -rf "$bin_dir"
mv "$scratch_dir" "$bin_dir"
echo "$build_seconds" >"$tool_cache/build-seconds"
echo "build.sh: built in ${build_seconds}s" >&2
echo "$bin_dir"
