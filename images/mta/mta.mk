# The MTA's protocol tests and benchmark. Included by the top-level Makefile, which puts Node 24 from
# node_modules first on PATH. Both need the real peers: images/lib/testing/install-peers.sh.
.PHONY: peers test-protocol bench-mta

PROTOCOL_TESTS := 'images/**/*.ptest.ts'

peers:
	bash images/lib/testing/install-peers.sh

# Protocol tests (*.ptest.ts): each program against real peers (slapd, Postfix, smtp-sink, swaks,
# curl, Python's smtplib) started on free loopback ports in temp dirs. KEEP_TEST_DIRS=1 keeps their
# logs.
test-protocol: install peers
	node --test --test-reporter=spec --test-concurrency=2 --test-timeout=120000 $(PROTOCOL_TESTS)

# Messages per second and p99 latency through the inbound relay, against Postfix as the same relay,
# in one run. Writes bench/mta/results/latest.json; see docs/performance.md.
bench-mta: install peers
	node bench/mta/run.ts
