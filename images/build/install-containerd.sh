#!/usr/bin/env bash
# containerd and ctr for the image import test (Debian's containerd 1.6). Idempotent: does nothing
# when both are there.
set -euo pipefail
if command -v containerd >/dev/null && command -v ctr >/dev/null; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-containerd.sh: containerd is missing; run as root: apt-get install containerd" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd
