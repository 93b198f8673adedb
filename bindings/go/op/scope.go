// Package op builds graphs with one function per op type: MatMul(s, a, b),
// Relu(s, x), ... The functions are generated from Loom's op registry (see
// generate.go); this file holds the Scope they build into and the few
// hand-written helpers (Const).
//
// A Scope records the first error; later functions then do nothing and
// Finalize (or Err) reports it, so graph-building code needs no error checks
// per op:
//
//	s := op.NewScope()
//	x := op.Placeholder(s, loom.Float, op.PlaceholderShape(loom.MakeShape(-1, 784)))
//	y := op.Softmax(s, op.MatMul(s, x, op.Const(s, weights)))
//	graph, err := s.Finalize()
package op

import (
	"fmt"
	"strings"
	"sync"

	"loom.dev/loom"
)

// Scope is where operations are added: a graph, a name namespace, a device
// and control dependencies. Sub-scopes share the graph and the error.
type Scope struct {
	graph     *loom.Graph
	namespace string
	device    string
	controls  []*loom.Operation
	state     *scopeState
}

type scopeState struct {
	mu    sync.Mutex
	err   error
	names map[string]int
}

// NewScope returns a root scope over a new graph.
func NewScope() *Scope { return NewScopeWithGraph(loom.NewGraph()) }

// NewScopeWithGraph returns a root scope over an existing graph.
func NewScopeWithGraph(g *loom.Graph) *Scope {
	return &Scope{graph: g, state: &scopeState{names: map[string]int{}}}
}

// Graph returns the scope's graph.
func (s *Scope) Graph() *loom.Graph { return s.graph }

// Err returns the first error any op function of this scope (or a sibling
// scope) met.
func (s *Scope) Err() error {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	return s.state.err
}

// Finalize returns the graph, or the first error.
func (s *Scope) Finalize() (*loom.Graph, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.graph, nil
}

// UpdateErr records err (the first one wins), prefixed with the op type.
func (s *Scope) UpdateErr(opType string, err error) {
	if err == nil {
		return
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	if s.state.err == nil {
		s.state.err = fmt.Errorf("%s: %w", opType, err)
	}
}

// SubScope returns a scope whose op names are prefixed "namespace/".
func (s *Scope) SubScope(namespace string) *Scope {
	sub := *s
	sub.namespace = s.uniqueName(namespace)
	return &sub
}

// WithDevice returns a scope whose ops request device.
func (s *Scope) WithDevice(device string) *Scope {
	sub := *s
	sub.device = device
	return &sub
}

// WithControlDependencies returns a scope whose ops run after ops.
func (s *Scope) WithControlDependencies(ops ...*loom.Operation) *Scope {
	sub := *s
	sub.controls = append(append([]*loom.Operation(nil), s.controls...), ops...)
	return &sub
}

// uniqueName returns "namespace/base", made unique with "_1", "_2", ...
func (s *Scope) uniqueName(base string) string {
	if s.namespace != "" {
		base = s.namespace + "/" + base
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	n := s.state.names[base]
	s.state.names[base] = n + 1
	name := base
	if n > 0 {
		name = fmt.Sprintf("%s_%d", base, n)
	}
	for s.graph.Operation(name) != nil {
		n++
		s.state.names[base] = n + 1
		name = fmt.Sprintf("%s_%d", base, n)
	}
	return name
}

// AddOperation adds an op in this scope: its name is made unique under the
// scope's namespace, and the scope's device and control dependencies apply.
// On error it records the error and returns nil.
func (s *Scope) AddOperation(spec loom.OpSpec) *loom.Operation {
	if s.Err() != nil {
		return nil
	}
	if spec.Name == "" {
		spec.Name = spec.Type
	}
	spec.Name = s.uniqueName(strings.TrimPrefix(spec.Name, "/"))
	if spec.Device == "" {
		spec.Device = s.device
	}
	spec.ControlDependencies = append(append([]*loom.Operation(nil), s.controls...), spec.ControlDependencies...)
	op, err := s.graph.AddOperation(spec)
	if err != nil {
		s.UpdateErr(spec.Type, err)
		return nil
	}
	return op
}

// Const adds a Const op holding value: a Go scalar, slice or nested slice
// (see loom.NewTensor) or a *loom.Tensor.
func Const(s *Scope, value interface{}) loom.Output {
	if s.Err() != nil {
		return loom.Output{}
	}
	t, ok := value.(*loom.Tensor)
	if !ok {
		var err error
		if t, err = loom.NewTensor(value); err != nil {
			s.UpdateErr("Const", err)
			return loom.Output{}
		}
		defer t.Close()
	}
	op := s.AddOperation(loom.OpSpec{Type: "Const", Attrs: map[string]interface{}{"value": t, "dtype": t.DataType()}})
	if op == nil {
		return loom.Output{}
	}
	return op.Output(0)
}

// optionalAttr collects the optional attrs of one op.
type optionalAttr map[string]interface{}

// outputs returns op's outputs [start, start+n), or nil for a nil op.
func outputs(op *loom.Operation, start, n int) []loom.Output {
	if op == nil {
		return nil
	}
	out := make([]loom.Output, n)
	for i := range out {
		out[i] = op.Output(start + i)
	}
	return out
}

func output(op *loom.Operation, i int) loom.Output {
	if op == nil {
		return loom.Output{}
	}
	return op.Output(i)
}
