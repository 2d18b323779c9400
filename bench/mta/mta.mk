# The MTA's benchmark. Included by the top-level Makefile; needs the real peers (make peers).
.PHONY: bench-mta

# Messages per second and p99 latency through the inbound relay, against Postfix as the same relay,
# in one run. Writes bench/mta/results/latest.json; see docs/performance.md.
bench-mta: install peers
	node bench/mta/run.ts
