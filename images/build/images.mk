# Container images without a container engine (images/build/, docs/images.md). Included from the
# top-level Makefile.
#
#   make images                 build every image into out/images/<id>.tar, print names and IDs
#   make images IMPORT=SOCKET   ... and import them into the containerd at SOCKET (k8s.io namespace)
#   make images IMAGES='mta store'   only these
.PHONY: images containerd

IMAGES ?=
IMPORT ?=

images: install
	node images/build/main.ts $(if $(IMPORT),--import '$(IMPORT)') $(IMAGES)

# containerd and ctr for the import test (skipped without them).
containerd:
	bash images/build/install-containerd.sh
test-integration: containerd
