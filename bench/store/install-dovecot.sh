#!/usr/bin/env bash
# Dovecot 2.3 from Debian, the store benchmark's peer (not needed by any test). Idempotent. The
# packages' own service is never started: the benchmark runs a private instance on loopback.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
