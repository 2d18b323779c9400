// Command etcd is etcd's own server entry point, built from the etcd release that the pinned
// k8s.io/kubernetes requires (go.mod), so the test cluster runs the etcd this kube-apiserver is
// tested with. Debian 12's etcd-server (3.4.23) does start and serve kube-apiserver 1.35, but it is
// below what Kubernetes supports (3.5+) and lacks the watch-progress fixes (3.4.31+) that the
// apiserver's consistent reads from its cache depend on, so the apiserver would quietly run
// differently from a real cluster's.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
