# The test control plane for testing/go-tools/build.sh: etcd (our main in cmd/etcd, on the etcd
# module k8s.io/kubernetes requires), kube-apiserver, kube-controller-manager and kubectl; and the
# end-to-end node's kube-scheduler, kubelet and kube-proxy (e2e/), which share this one build so
# they reuse its compiled packages (about 70 s more than the control plane alone).
tool_name=cluster
tool_version=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' go.mod)
tool_packages=(
  k8s.io/kubernetes/cmd/kube-apiserver
  k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kubectl
  k8s.io/kubernetes/cmd/kube-scheduler
  k8s.io/kubernetes/cmd/kubelet
  k8s.io/kubernetes/cmd/kube-proxy
  ./cmd/etcd
)
tool_binaries=(etcd kube-apiserver kube-controller-manager kubectl kube-scheduler kubelet kube-proxy)
# What `kubectl version` and the apiserver's /version report (Kubernetes' own build sets the same).
for version_pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  tool_ldflags+=" -X $version_pkg.gitVersion=$tool_version -X $version_pkg.gitTreeState=clean"
done
# cgo on, as the build this replaced had it (Go's default with gcc present).
tool_cgo=1
