package loom

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func haveZmq() bool {
	dir := os.Getenv("LOOM_LIBRARY_DIR")
	_, err := os.Stat(filepath.Join(dir, "loom", "plugins", "libloom_transport_zmq.so"))
	return dir != "" && err == nil
}

// A ps and a worker server in this process; a session on the worker's target
// places the variable on the ps and the product on the worker.
func TestSessionOnAClusterComputesAcrossTasks(t *testing.T) {
	if !haveZmq() {
		t.Skip("the ZeroMQ transport plugin is not built (or LOOM_LIBRARY_DIR is unset)")
	}
	cluster := fmt.Sprintf(`{"ps": ["127.0.0.1:%d"], "worker": ["127.0.0.1:%d"]}`, freePort(t), freePort(t))
	ps, err := NewServer(cluster, "ps", 0, nil)
	must(t, err)
	defer ps.Close()
	worker, err := NewServer(cluster, "worker", 0, nil)
	must(t, err)
	defer worker.Close()
	if !strings.HasPrefix(worker.Target(), "zmq://127.0.0.1:") {
		t.Fatalf("target %q", worker.Target())
	}

	g := NewGraph()
	defer g.Close()
	w := add(t, g, OpSpec{Type: "VariableV2", Name: "w", Device: "/job:ps/task:0",
		Attrs: map[string]interface{}{"dtype": Float, "shape": MakeShape(2)}}).Output(0)
	init := add(t, g, OpSpec{Type: "Assign", Name: "init",
		Input: []Input{w, constant(t, g, "w0", []float32{3, -4})}})
	x := placeholder(t, g, "x", Float, MakeShape(2))
	y := add(t, g, OpSpec{Type: "Mul", Name: "y", Device: "/job:worker/task:0", Input: []Input{x, w}}).Output(0)

	s, err := NewSession(g, &SessionOptions{Target: worker.Target()})
	must(t, err)
	defer s.Close()
	_, err = s.Run(nil, nil, []*Operation{init})
	must(t, err)
	in, _ := NewTensor([]float32{2, 0.5})
	defer in.Close()
	out, err := s.Run(map[Output]*Tensor{x: in}, []Output{y}, nil)
	must(t, err)
	defer out[0].Close()
	if want := []float32{6, -2}; !reflect.DeepEqual(out[0].Value(), want) {
		t.Errorf("got %v, want %v", out[0].Value(), want)
	}
}

func TestServerOfATaskNotInTheClusterIsRefused(t *testing.T) {
	_, err := NewServer(`{"worker": ["127.0.0.1:1"]}`, "ps", 0, nil)
	if err == nil || !strings.Contains(err.Error(), "/job:ps/replica:0/task:0") {
		t.Fatalf("want an error naming the task, got %v", err)
	}
}
