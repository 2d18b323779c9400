# The kstatus checker (testing/kstatus): built once before the integration tests that use it, so a
# cold build (about 2 minutes) never counts against a test's timeout.
.PHONY: kstatus-bin

kstatus-bin:
	@bash testing/go-tools/build.sh testing/kstatus >/dev/null
