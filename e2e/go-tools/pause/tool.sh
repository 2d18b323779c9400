# The pause program for testing/go-tools/build.sh (the pod sandbox image's one file).
tool_name=pause
tool_version=v1
tool_packages=(./cmd/pause)
tool_binaries=(pause)
