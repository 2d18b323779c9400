# CoreDNS for testing/go-tools/build.sh: our main in cmd/coredns, with only the plugins we use.
tool_name=coredns
tool_version=$(awk '$1 == "require" && $2 == "github.com/coredns/coredns" { print $3 }' go.mod)
tool_packages=(./cmd/coredns)
tool_binaries=(coredns)
tool_ldflags="-X github.com/coredns/coredns/coremain.GitCommit=$tool_version"
