package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"io"
	"strconv"
	"strings"
	"unsafe"
)

// ToGraphDef serialises the graph as a TensorFlow-compatible GraphDef:
// binary protobuf, or protobuf text when text is true.
func (g *Graph) ToGraphDef(text bool) ([]byte, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.c == nil {
		return nil, newError(FailedPrecondition, "the graph is closed")
	}
	format := C.int(C.LOOM_GRAPHDEF_BINARY)
	if text {
		format = C.LOOM_GRAPHDEF_TEXT
	}
	var data *C.char
	var n C.size_t
	if err := statusError(C.loom_graph_to_graphdef(g.c, format, &data, &n)); err != nil {
		return nil, err
	}
	defer C.loom_string_free(data)
	return C.GoBytes(unsafe.Pointer(data), C.int(n)), nil
}

// WriteTo writes the binary GraphDef to w (io.WriterTo).
func (g *Graph) WriteTo(w io.Writer) (int64, error) {
	b, err := g.ToGraphDef(false)
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// ImportOptions configures Graph.ImportWithOptions.
type ImportOptions struct {
	// Prefix is prepended as "Prefix/" to every imported operation's name.
	Prefix string
	// Text: the GraphDef is protobuf text, not binary.
	Text bool
	// DefaultDevice for imported operations that request none.
	DefaultDevice string
	// ClearDevices ignores the GraphDef's device requests.
	ClearDevices bool
	// InputMapping replaces the GraphDef's tensors ("name" or "name:index",
	// names as in the GraphDef) with outputs already in the graph.
	InputMapping map[string]Output
	// ControlMapping replaces control inputs "^name" with operations in the graph.
	ControlMapping map[string]*Operation
	// MaxTensorBytes bounds a tensor that import expands from fewer values than
	// its shape declares (0: Loom's default, 1 GiB).
	MaxTensorBytes int64
}

// Import adds the operations of a binary GraphDef to g, their names prefixed
// with "prefix/" unless prefix is "".
func (g *Graph) Import(graphDef []byte, prefix string) error {
	return g.ImportWithOptions(graphDef, ImportOptions{Prefix: prefix})
}

// ImportWithOptions adds the operations of a GraphDef to g. On error the graph
// is unchanged; unknown op types are all listed in one NotFound error.
func (g *Graph) ImportWithOptions(graphDef []byte, options ImportOptions) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.c == nil {
		return newError(FailedPrecondition, "the graph is closed")
	}
	o := C.loom_import_options_new()
	defer C.loom_import_options_free(o)
	if options.Text {
		C.loom_import_options_set_format(o, C.LOOM_GRAPHDEF_TEXT)
	}
	setStr := func(s string, f func(*C.char)) {
		if s == "" {
			return
		}
		cs := C.CString(s)
		f(cs)
		C.free(unsafe.Pointer(cs))
	}
	setStr(options.Prefix, func(s *C.char) { C.loom_import_options_set_prefix(o, s) })
	setStr(options.DefaultDevice, func(s *C.char) { C.loom_import_options_set_default_device(o, s) })
	C.loom_import_options_set_clear_devices(o, boolInt(options.ClearDevices))
	if options.MaxTensorBytes > 0 {
		C.loom_import_options_set_max_tensor_bytes(o, C.int64_t(options.MaxTensorBytes))
	}
	for key, out := range options.InputMapping {
		if out.Op == nil || out.Op.g != g {
			return newError(InvalidArgument, "input mapping for %q is not an output of this graph", key)
		}
		name, index := splitTensorName(key)
		setStr(name, func(s *C.char) { C.loom_import_options_add_input_mapping(o, s, C.int(index), out.c()) })
	}
	for key, op := range options.ControlMapping {
		if op == nil || op.g != g {
			return newError(InvalidArgument, "control mapping for %q is not an operation of this graph", key)
		}
		setStr(strings.TrimPrefix(key, "^"), func(s *C.char) { C.loom_import_options_add_control_mapping(o, s, op.c) })
	}
	var p unsafe.Pointer
	if len(graphDef) > 0 {
		p = C.CBytes(graphDef)
		defer C.free(p)
	}
	return statusError(C.loom_graph_import_graphdef(g.c, p, C.size_t(len(graphDef)), o))
}

// splitTensorName splits "op:3" into ("op", 3); "op" is ("op", 0).
func splitTensorName(s string) (string, int) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], n
		}
	}
	return s, 0
}

// OutputByName finds a tensor by its name ("op:index" or "op").
func (g *Graph) OutputByName(name string) (Output, error) {
	op, index := splitTensorName(name)
	o := g.Operation(op)
	if o == nil {
		return Output{}, newError(NotFound, "the graph has no operation %q", op)
	}
	if index >= o.NumOutputs() {
		return Output{}, newError(OutOfRange, "%s has %d outputs, no output %d", op, o.NumOutputs(), index)
	}
	return o.Output(index), nil
}

// AddGradients adds the operations computing the gradients of sum(ys) with
// respect to xs (TensorFlow's tf.gradients) and returns them; an x that ys do
// not depend on gets an Output with a nil Op. dys (nil, or one per y) seed
// the ys instead of ones. prefix names the new operations ("gradients" if "").
func (g *Graph) AddGradients(prefix string, ys, xs, dys []Output) ([]Output, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.c == nil {
		return nil, newError(FailedPrecondition, "the graph is closed")
	}
	if dys != nil && len(dys) != len(ys) {
		return nil, newError(InvalidArgument, "AddGradients: %d dys for %d ys", len(dys), len(ys))
	}
	cys := make([]C.loom_output, len(ys)+1)
	for i, y := range ys {
		cys[i] = y.c()
	}
	cxs := make([]C.loom_output, len(xs)+1)
	for i, x := range xs {
		cxs[i] = x.c()
	}
	var cdys *C.loom_output
	if dys != nil {
		d := make([]C.loom_output, len(dys)+1)
		for i, dy := range dys {
			d[i] = dy.c()
		}
		cdys = &d[0]
	}
	var cprefix *C.char
	if prefix != "" {
		cprefix = C.CString(prefix)
		defer C.free(unsafe.Pointer(cprefix))
	}
	out := make([]C.loom_output, len(xs)+1)
	if err := statusError(C.loom_graph_add_gradients(g.c, cprefix, &cys[0], C.int(len(ys)), &cxs[0],
		C.int(len(xs)), cdys, &out[0])); err != nil {
		return nil, err
	}
	result := make([]Output, len(xs))
	for i := range result {
		result[i] = Output{Op: g.op(out[i].op), Index: int(out[i].index)}
	}
	return result, nil
}
