# crictl for testing/go-tools/build.sh.
tool_name=crictl
tool_version=$(awk '$1 == "sigs.k8s.io/cri-tools" { print $2 }' go.mod)
tool_packages=(sigs.k8s.io/cri-tools/cmd/crictl)
tool_binaries=(crictl)
tool_ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version=$tool_version"
