#!/usr/bin/env bash
# Installs what building and running the test control plane needs from the OS, and checks the rest.
# Idempotent: installs only what is missing, and runs apt-get update only then.
#
#   install-deps.sh [PACKAGE...]   also installs these Debian packages (e2e/install-deps.sh's)
#
# Not needed from Debian, on purpose: etcd (built from Go modules, see cmd/etcd/main.go) and
# openssl (keys come from node:crypto, the serving certificate from kube-apiserver itself).
set -euo pipefail

# The Go module proxy is reached over HTTPS.
packages=(ca-certificates "$@")

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt run (a parallel job installing its own packages) rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# Go comes with the machine (/usr/local/go), not from Debian (whose 1.19 is too old for Kubernetes).
go_bin=$(command -v go || echo /usr/local/go/bin/go)
required_go=$(awk '$1 == "go" { print $2; exit }' "$(dirname "$0")/go.mod")
if [ ! -x "$go_bin" ]; then
  echo "install-deps.sh: Go >= $required_go is needed to build the test control plane (not found)" >&2
  exit 1
fi
installed_go=$("$go_bin" env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$required_go" "$installed_go" | sort -V | head -1)" != "$required_go" ]; then
  echo "install-deps.sh: Go >= $required_go is needed, $go_bin is $installed_go" >&2
  exit 1
fi
