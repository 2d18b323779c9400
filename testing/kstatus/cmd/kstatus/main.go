// kstatus: what Flux, kpt and `kubectl wait`-style tools conclude from an object's status, computed
// by the kstatus library itself (sigs.k8s.io/cli-utils/pkg/kstatus). Reads JSON objects, one per
// line, on stdin; writes one line of JSON per object: {"status": "...", "message": "..."}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if len(in.Bytes()) == 0 {
			continue
		}
		// The API machinery's own decoder: numbers become int64 as the accessors expect.
		object := &unstructured.Unstructured{}
		if err := object.UnmarshalJSON(in.Bytes()); err != nil {
			fmt.Fprintln(os.Stderr, "kstatus: not a Kubernetes object:", err)
			os.Exit(2)
		}
		computed, err := status.Compute(object)
		r := result{}
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Status = computed.Status.String()
			r.Message = computed.Message
		}
		if err := out.Encode(r); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}
