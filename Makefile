# Every target runs on Node 24 from node_modules (the machine's own node may be older).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
SHELL := /bin/bash

NODE_TEST := node --test --test-reporter=spec --test-concurrency=2
UNIT_TESTS := 'operator/**/*.test.ts' 'images/**/*.test.ts' 'testing/**/*.test.ts' 'e2e/**/*.test.ts'

.PHONY: all install lint format typecheck test test-unit crds docs demo demo-down demo-offline run clean

all: test

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

lint: install
	eslint .
	prettier --check .

format: install
	prettier --write .

typecheck: install
	tsc -p tsconfig.json

test-unit: install
	$(NODE_TEST) $(UNIT_TESTS)

# The whole suite: what CI runs.
test: lint typecheck test-unit test-integration test-protocol e2e

# Regenerate what is derived from code: CRDs and docs/api.md from the zod schemas, the chart's RBAC
# template and CRD copies (operator/src/generate/).
crds: install
	node operator/src/generate/main.ts

# A real mail site on a single-node cluster, in the foreground until Ctrl-C (e2e/demo/demo.ts).
demo: install e2e-deps
	@node e2e/demo/demo.ts

# Takes down a demo (or an e2e node) left running, from another terminal.
demo-down: install
	@node e2e/stop.ts

# No cluster: validate, plan, render and draw examples/siroe.yaml.
demo-offline: install
	@bash examples/demo.sh

# The operator against the current kubeconfig (all namespaces; NAMESPACE=x watches one).
run: install
	node operator/src/reconcile/main.ts --namespace '$(NAMESPACE)' --health-address 127.0.0.1 --log-level info

clean:
	rm -rf node_modules .cache out

include testing/control-plane/control-plane.mk
include e2e/e2e.mk
include testing/peers/peers.mk
include testing/gitops/gitops.mk
include charts/charts.mk
include bench/mta/mta.mk
include bench/mmp/mmp.mk
include bench/operator/operator.mk
include bench/store/store.mk
include images/build/images.mk
