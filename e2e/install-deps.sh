#!/usr/bin/env bash
# Installs what the end-to-end node needs from Debian, and checks the rest (through the control
# plane's install-deps.sh, which also checks Go). Idempotent: installs only what is missing, and
# runs apt-get update only then. CI runs it before `make e2e`; `make e2e` runs it too.
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
exec "$(dirname "$0")/../testing/control-plane/install-deps.sh" runc containernetworking-plugins iptables ipset \
  conntrack iproute2 util-linux busybox-static openssl
