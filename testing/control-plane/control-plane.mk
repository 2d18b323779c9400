# Integration tests against a real control plane (etcd, kube-apiserver, kube-controller-manager)
# built from the Go modules pinned in testing/control-plane/go.mod. Included from the top-level Makefile.
#
#   make cluster-bin        build the binaries once into ~/.cache/mtopo (later runs reuse them)
#   make test-integration   run every *.itest.ts in the tree against one shared control plane

NODE_TEST ?= node --test --test-reporter=spec --test-concurrency=2
# Anywhere in the tree; node --test leaves node_modules out of glob matches.
INTEGRATION_TESTS := '**/*.itest.ts'
# A hung wait (a controller that never acts) fails the test instead of the CI run's time limit.
INTEGRATION_TEST_TIMEOUT_MS := 180000

.PHONY: cluster-bin test-integration

cluster-bin:
	@bash testing/go-tools/build.sh testing/control-plane >/dev/null

test-integration: install cluster-bin kstatus-bin
	$(NODE_TEST) --test-timeout=$(INTEGRATION_TEST_TIMEOUT_MS) \
		--test-global-setup=testing/control-plane/global-setup.ts $(INTEGRATION_TESTS)
