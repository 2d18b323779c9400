// The pod sandbox's pause program: no dependencies, a static binary in the pause image.
module mtopo.dev/e2e/go-tools/pause

go 1.25.0
