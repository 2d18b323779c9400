# The kstatus checker for testing/go-tools/build.sh: a main over sigs.k8s.io/cli-utils/pkg/kstatus.
tool_name=kstatus
tool_version=$(awk '$1 == "sigs.k8s.io/cli-utils" { print $2 }' go.mod)
tool_packages=(./cmd/kstatus)
tool_binaries=(kstatus)
