# containerd v2 for testing/go-tools/build.sh: the daemon, the runc shim and ctr. Static (cgo off),
# which leaves out only the btrfs snapshotter (overlayfs is the one used).
tool_name=containerd
tool_version=$(awk '$1 == "github.com/containerd/containerd/v2" { print $2 }' go.mod)
tool_packages=(
  github.com/containerd/containerd/v2/cmd/containerd
  github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
  github.com/containerd/containerd/v2/cmd/ctr
)
tool_binaries=(containerd containerd-shim-runc-v2 ctr)
tool_ldflags="-X github.com/containerd/containerd/v2/version.Version=$tool_version"
