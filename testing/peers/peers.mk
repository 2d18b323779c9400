# The real mail peers the protocol tests talk to (slapd, Postfix and its smtp-source/smtp-sink,
# swaks, curl, Python's mail libraries), and the protocol tests themselves. Included by the
# top-level Makefile, which puts Node 24 from node_modules first on PATH.
.PHONY: peers test-protocol

# Protocol tests (*.ptest.ts, anywhere under images/): each program against real peers started on
# free loopback ports in temp dirs. KEEP_TEST_DIRS=1 keeps their logs.
PROTOCOL_TESTS := 'images/**/*.ptest.ts'

peers:
	bash testing/peers/install-peers.sh

# --test-force-exit: a test file whose tests have all ended exits even if a peer it started
# lingers (once seen: mx.ptest.ts left its smtp-sinks running after their stop() returned).
test-protocol: install peers
	node --test --test-reporter=spec --test-concurrency=2 --test-timeout=120000 --test-force-exit $(PROTOCOL_TESTS)
