# The operator's Helm chart (charts/mtopo). Included from the top-level Makefile.
#
#   make crds         also writes the chart's generated files (operator/src/generate/chart-files.ts):
#                     templates/_rules.tpl (the RBAC rules of operator/src/reconcile/rbac.ts) and
#                     crds/ (copies of the generated crds/)
#   make helm-bin     build helm from Go modules once into ~/.cache/mtopo (testing/go-tools/build.sh testing/helm)
#   make chart-lint   helm lint the chart

.PHONY: helm-bin chart-lint

helm-bin:
	@bash testing/go-tools/build.sh testing/helm >/dev/null

chart-lint: helm-bin
	"$$(bash testing/go-tools/build.sh testing/helm)/helm" lint --strict charts/mtopo

# The chart's tests (charts/chart.itest.ts) run helm: build it before any test's timeout counts.
test-integration: helm-bin
