#!/usr/bin/env bash
# Installs what the end-to-end node needs from Debian, and checks the rest. Idempotent: installs
# only what is missing, and runs apt-get update only then. CI runs it before `make e2e`.
#
#   runc                          the OCI runtime containerd starts containers with (Debian 1.1.5)
#   containernetworking-plugins   the CNI bridge, host-local and portmap plugins (/usr/lib/cni)
#   iptables ipset conntrack      what kube-proxy and kube-router's firewall program (in the node's
#                                 own network namespace only)
#   iproute2 util-linux           ip (netns, veth) and nsenter
#   busybox-static                the e2e test image's userland (a static busybox)
#   openssl                       signs the API server's client certificate for the kubelet
#
# Not from Debian, on purpose: containerd (v2, built from its Go module: see docs/e2e.md), the
# Kubernetes daemons, CoreDNS and kube-router (built from Go modules by testing/go-tools/build.sh).
set -euo pipefail

packages=(ca-certificates runc containernetworking-plugins iptables ipset conntrack iproute2 util-linux openssl
  busybox-static)

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

# Go and the control plane's checks are shared with the API-server harness.
exec "$(dirname "$0")/../testing/control-plane/install-deps.sh"
