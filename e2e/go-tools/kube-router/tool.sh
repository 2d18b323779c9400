# kube-router for testing/go-tools/build.sh; the node runs its firewall alone (the NetworkPolicy
# enforcer), with its router, service proxy and CNI off.
tool_name=kube-router
tool_version=$(awk '$1 == "github.com/cloudnativelabs/kube-router/v2" { print $2 }' go.mod)
tool_packages=(github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)
tool_binaries=(kube-router)
tool_ldflags="-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$tool_version"
