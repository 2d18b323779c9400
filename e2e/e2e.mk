# End-to-end tests on a real single-node cluster (e2e/cluster/, docs/e2e.md). Included from the
# top-level Makefile. Needs root (network namespace, cgroups, containerd) and e2e/install-deps.sh.
#
#   make e2e-deps  install what the node needs from Debian (e2e/install-deps.sh)
#   make e2e-bin   build the node's binaries once into ~/.cache/mtopo (later runs reuse them)
#   make e2e       run every *.etest.ts against one node started for the run

E2E_TESTS := 'e2e/**/*.etest.ts'
# Generous: the machine is shared, and a pod start waits for the kubelet's next sync.
E2E_TEST_TIMEOUT_MS := 600000

.PHONY: e2e-deps e2e-bin e2e

# Installs only what is missing (a dpkg query each when all is there).
e2e-deps:
	@bash e2e/install-deps.sh

e2e-bin:
	@bash testing/go-tools/build.sh testing/control-plane >/dev/null
	@for tool in containerd pause crictl kube-router coredns; do \
		bash testing/go-tools/build.sh e2e/go-tools/$$tool >/dev/null || exit 1; done

# One test file at a time: they share the node. The site's tests (e2e/site/) also run the real
# peers outside the cluster (slapd, Postfix, HAProxy, swaks, curl) and install the chart with helm.
e2e: install e2e-deps peers e2e-bin helm-bin
	node --test --test-reporter=spec --test-concurrency=1 --test-timeout=$(E2E_TEST_TIMEOUT_MS) \
		--test-global-setup=e2e/global-setup.ts $(E2E_TESTS)
