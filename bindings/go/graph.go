package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Graph is a dataflow graph: operations with typed outputs. Adding operations
// is serialized by the Graph; sessions may run it while it grows. Close
// releases it once every Session over it is closed too.
type Graph struct {
	mu   sync.RWMutex // write: adding ops; read: everything else (incl. runs)
	c    *C.loom_graph
	refs int // 1 for the owner until Close, +1 per open Session

	opsMu sync.Mutex // guards ops: one *Operation per C op, so they compare equal
	ops   map[*C.loom_op]*Operation
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	g := &Graph{c: C.loom_graph_new(), refs: 1, ops: map[*C.loom_op]*Operation{}}
	runtime.SetFinalizer(g, (*Graph).Close) // safety net only; call Close
	return g
}

// Close releases the graph; its memory is freed when the last session over
// it is closed. Operations and Outputs of a closed graph must not be used.
func (g *Graph) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refs > 0 && g.c != nil {
		runtime.SetFinalizer(g, nil)
		g.unrefLocked()
	}
	return nil
}

func (g *Graph) ref() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.c == nil || g.refs == 0 {
		return newError(FailedPrecondition, "the graph is closed")
	}
	g.refs++
	return nil
}

func (g *Graph) unref() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unrefLocked()
}

func (g *Graph) unrefLocked() {
	g.refs--
	if g.refs == 0 && g.c != nil {
		C.loom_graph_free(g.c)
		g.c = nil
	}
}

func (g *Graph) op(c *C.loom_op) *Operation {
	if c == nil {
		return nil
	}
	g.opsMu.Lock()
	defer g.opsMu.Unlock()
	if op, ok := g.ops[c]; ok {
		return op
	}
	op := &Operation{c: c, g: g}
	g.ops[c] = op
	return op
}

// Operation returns the operation called name, or nil.
func (g *Graph) Operation(name string) *Operation {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.c == nil {
		return nil
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return g.op(C.loom_graph_op_by_name(g.c, cname))
}

// Operations returns every operation, in creation order.
func (g *Graph) Operations() []*Operation {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.c == nil {
		return nil
	}
	n := int(C.loom_graph_num_ops(g.c))
	out := make([]*Operation, n)
	for i := range out {
		out[i] = g.op(C.loom_graph_op_at(g.c, C.int(i)))
	}
	return out
}

// Output is one output of an operation: (Op, Index).
type Output struct {
	Op    *Operation
	Index int
}

func (o Output) c() C.loom_output {
	if o.Op == nil {
		return C.loom_output{}
	}
	return C.loom_output{op: o.Op.c, index: C.int(o.Index)}
}

// DataType returns the output's element type.
func (o Output) DataType() DataType {
	if o.Op == nil {
		return 0
	}
	o.Op.g.mu.RLock()
	defer o.Op.g.mu.RUnlock()
	return DataType(C.loom_op_output_dtype(o.Op.c, C.int(o.Index)))
}

// Shape returns the output's inferred shape (possibly partly unknown).
func (o Output) Shape() Shape {
	if o.Op == nil {
		return UnknownShape()
	}
	o.Op.g.mu.RLock()
	defer o.Op.g.mu.RUnlock()
	var dims [64]C.int64_t
	var rank C.int
	if err := statusError(C.loom_graph_output_shape(o.Op.g.c, o.c(), &dims[0], 64, &rank)); err != nil || rank < 0 {
		return UnknownShape()
	}
	out := make([]int64, int(rank))
	for i := range out {
		out[i] = int64(dims[i])
	}
	return MakeShape(out...)
}

// Name returns "op:index", TensorFlow's name for a tensor.
func (o Output) Name() string { return fmt.Sprintf("%s:%d", o.Op.Name(), o.Index) }

// Consumers returns how many operations consume this output.
func (o Output) NumConsumers() int {
	o.Op.g.mu.RLock()
	defer o.Op.g.mu.RUnlock()
	return int(C.loom_output_num_consumers(o.c()))
}

// Operation is a node of a Graph. It lives as long as its graph.
type Operation struct {
	c *C.loom_op
	g *Graph
}

// Name returns the operation's unique name.
func (op *Operation) Name() string {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	return C.GoString(C.loom_op_name(op.c))
}

// Type returns the op type ("MatMul").
func (op *Operation) Type() string {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	return C.GoString(C.loom_op_type(op.c))
}

// Device returns the requested device ("" if none).
func (op *Operation) Device() string {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	return C.GoString(C.loom_op_device(op.c))
}

// NumOutputs returns the number of outputs.
func (op *Operation) NumOutputs() int {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	return int(C.loom_op_num_outputs(op.c))
}

// Output returns output i.
func (op *Operation) Output(i int) Output { return Output{Op: op, Index: i} }

// NumInputs returns the number of data inputs.
func (op *Operation) NumInputs() int {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	return int(C.loom_op_num_inputs(op.c))
}

// Input returns the output that feeds data input i.
func (op *Operation) Input(i int) Output {
	op.g.mu.RLock()
	in := C.loom_op_input(op.c, C.int(i))
	op.g.mu.RUnlock()
	return Output{Op: op.g.op(in.op), Index: int(in.index)}
}

// ControlInputs returns the operations this one runs after.
func (op *Operation) ControlInputs() []*Operation {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	n := int(C.loom_op_num_control_inputs(op.c))
	out := make([]*Operation, n)
	for i := range out {
		out[i] = op.g.op(C.loom_op_control_input(op.c, C.int(i)))
	}
	return out
}

// AttrInt returns an int attribute.
func (op *Operation) AttrInt(name string) (int64, error) {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var v C.int64_t
	if err := statusError(C.loom_op_attr_int(op.c, cname, &v)); err != nil {
		return 0, err
	}
	return int64(v), nil
}

// AttrType returns a type attribute.
func (op *Operation) AttrType(name string) (DataType, error) {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var v C.loom_dtype
	if err := statusError(C.loom_op_attr_type(op.c, cname, &v)); err != nil {
		return 0, err
	}
	return DataType(v), nil
}

// AttrTensor returns a tensor attribute (a new Tensor owned by the caller).
func (op *Operation) AttrTensor(name string) (*Tensor, error) {
	op.g.mu.RLock()
	defer op.g.mu.RUnlock()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var t *C.loom_tensor
	if err := statusError(C.loom_op_attr_tensor(op.c, cname, &t)); err != nil {
		return nil, err
	}
	return newTensorFromC(t), nil
}
