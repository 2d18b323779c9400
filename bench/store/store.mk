# The store's benchmark. Included by the top-level Makefile; needs Postfix's smtp-source (make peers)
# and Dovecot (installed by bench/store/install-dovecot.sh).
.PHONY: bench-store

# LMTP deliveries/s, mixed IMAP commands/s, FETCH MB/s and the memory of 10,000 IDLE sessions,
# against Dovecot 2.3 (default and high-performance process settings), in one run. Writes
# bench/store/results/latest.json; see docs/performance.md. The soft limit of open files is raised
# to the hard one for this run only (10,000 sessions are 10,000 sockets on each side).
bench-store: install peers
	bash bench/store/install-dovecot.sh
	ulimit -n $$(ulimit -Hn) && node bench/store/run.ts
