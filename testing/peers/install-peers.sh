#!/usr/bin/env bash
# Installs the real peers the protocol tests (*.ptest.ts) talk to: OpenLDAP, Postfix (and its
# smtp-source / smtp-sink), swaks with TLS, curl, Python 3, dnsmasq (a DNS server for the MX
# tests), fetchmail (the store's POP3 client), isync (mbsync) and Dovecot (the store's reference
# IMAP/POP3/LMTP server). Idempotent: packages already present are left alone, and the package index
# is refreshed only when something is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(slapd ldap-utils postfix swaks libnet-ssleay-perl libio-socket-ssl-perl curl python3 openssl dnsmasq-base
  fetchmail isync)
# HAProxy: a real load balancer sending PROXY v1/v2 headers (testing/peers/haproxy.ts).
PACKAGES+=(haproxy)
# Dovecot: a store no one here wrote — the store's reference and benchmark peer, and a backend
# behind the MMP (testing/peers/dovecot.ts).
PACKAGES+=(dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd)
# Lua 5.1, the dialect Argo CD's gopher-lua speaks: runs our Argo CD health check (testing/gitops).
PACKAGES+=(lua5.1)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Postfix asks how to configure the system's own mailer; the tests run private instances only.
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
echo 'postfix postfix/mailname string localhost' | debconf-set-selections
# slapd would otherwise create a system database we never use; our harness runs its own.
echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

