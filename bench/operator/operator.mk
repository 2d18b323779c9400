# The operator's benchmark: N sites deployed by the operator, against the floor the API server sets
# (one `kubectl apply --server-side` of the same rendered objects). Included from the top-level
# Makefile; results in out/bench-operator/, figures in docs/performance.md.
#
#   make bench-operator                                  100 sites, 3 runs each (about 5 minutes)
#   make bench-operator BENCH_OPERATOR_ARGS='--sites 20 --runs 1 --cpu-prof'

BENCH_OPERATOR_ARGS ?=

.PHONY: bench-operator

bench-operator: install cluster-bin
	node bench/operator/bench.ts $(BENCH_OPERATOR_ARGS)
