# The MMP's benchmark. Included by the top-level Makefile; needs the real peers (make peers) and
# nginx's mail module (nginx-light, libnginx-mod-mail), installed here when missing (RUNLEVEL=1 keeps
# the package from starting the system's nginx: the benchmark runs its own on loopback).
.PHONY: bench-mmp bench-mmp-peers

bench-mmp-peers:
	@dpkg -s nginx-light libnginx-mod-mail >/dev/null 2>&1 || \
	  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    nginx-light libnginx-mod-mail

# Logins per second and bulk FETCH throughput through the MMP, directly to Dovecot and through
# nginx's mail proxy, in one run. Writes bench/mmp/results/latest.json; see docs/performance.md.
bench-mmp: install peers bench-mmp-peers
	node bench/mmp/run.ts
