# The MMP's benchmark. Included by the top-level Makefile; needs the real peers (make peers) and
# nginx's mail module (nginx-light, libnginx-mod-mail).
.PHONY: bench-mmp

# Logins per second and bulk FETCH throughput through the MMP, directly to Dovecot and through
# nginx's mail proxy, in one run. Writes bench/mmp/results/latest.json; see docs/performance.md.
bench-mmp: install peers
	node bench/mmp/run.ts
