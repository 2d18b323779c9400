# The store's benchmark. Included by the top-level Makefile; needs Postfix's smtp-source (make peers)
# and Dovecot (installed by bench/store/install-dovecot.sh).
.PHONY: bench-store

# LMTP deliveries per second against Dovecot 2.3 (default and high-performance process settings),
# in one run. Writes bench/store/results/latest.json; see docs/performance.md.
bench-store: install peers
	bash bench/store/install-dovecot.sh
	node bench/store/run.ts
