# helm for testing/go-tools/build.sh, from helm.sh/helm/v3 as pinned in go.mod.
tool_name=helm
tool_version=$(awk '$1 == "helm.sh/helm/v3" { print $2 }' go.mod)
tool_packages=(helm.sh/helm/v3/cmd/helm)
tool_binaries=(helm)
# What helm's own Makefile stamps: its version, and the Kubernetes version that `helm template` and
# `helm lint` assume without a cluster (client-go v0.N.x is Kubernetes 1.N).
client_go_version=$(awk '$1 == "k8s.io/client-go" { print $2 }' go.mod)
IFS=. read -r _ k8s_minor _ <<<"${client_go_version#v}"
tool_ldflags+=" -X helm.sh/helm/v3/internal/version.version=$tool_version"
tool_ldflags+=" -X helm.sh/helm/v3/internal/version.metadata="
tool_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  tool_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
