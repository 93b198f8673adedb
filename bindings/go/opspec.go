package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Shape is a tensor shape known in part: an unknown rank, or dimensions of
// which some (-1) may be unknown.
type Shape struct {
	dims  []int64
	known bool
}

// MakeShape returns a shape of known rank; -1 marks an unknown dimension.
func MakeShape(dims ...int64) Shape { return Shape{dims: append([]int64(nil), dims...), known: true} }

// ScalarShape returns the shape of a scalar.
func ScalarShape() Shape { return Shape{known: true} }

// UnknownShape returns a shape of unknown rank.
func UnknownShape() Shape { return Shape{} }

// NumDimensions returns the rank, or -1 if unknown.
func (s Shape) NumDimensions() int {
	if !s.known {
		return -1
	}
	return len(s.dims)
}

// Size returns dimension i (-1 if unknown).
func (s Shape) Size(i int) int64 { return s.dims[i] }

// ToSlice returns the dimensions; an error if the rank is unknown.
func (s Shape) ToSlice() ([]int64, error) {
	if !s.known {
		return nil, newError(FailedPrecondition, "shape has unknown rank")
	}
	return append([]int64(nil), s.dims...), nil
}

func (s Shape) String() string {
	if !s.known {
		return "?"
	}
	return fmt.Sprint(s.dims)
}

// Input is an input of an operation: an Output or an OutputList.
type Input interface{ isInput() }

func (Output) isInput() {}

// OutputList is a list input (AddN's inputs, ConcatV2's values).
type OutputList []Output

func (OutputList) isInput() {}

// OpSpec describes an operation to add to a graph.
type OpSpec struct {
	Type string
	// Name must be unique in the graph; "" picks one from Type.
	Name  string
	Input []Input
	// Attrs by name: int, int64, float32, float64, bool, DataType, Shape,
	// string, *Tensor, or slices of these ([]int64, []float32, []bool,
	// []DataType, []Shape, []string, []*Tensor).
	Attrs               map[string]interface{}
	ControlDependencies []*Operation
	Device              string
}

// AddOperation validates spec against the op's schema, infers shapes and
// adds the operation. Errors name the op and what was expected.
func (g *Graph) AddOperation(spec OpSpec) (*Operation, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.c == nil {
		return nil, newError(FailedPrecondition, "the graph is closed")
	}
	ctype := C.CString(spec.Type)
	defer C.free(unsafe.Pointer(ctype))
	var cname *C.char
	if spec.Name != "" {
		cname = C.CString(spec.Name)
		defer C.free(unsafe.Pointer(cname))
	}
	b := C.loom_op_builder_new(g.c, ctype, cname)
	for _, in := range spec.Input {
		switch x := in.(type) {
		case Output:
			if x.Op != nil && x.Op.g != g {
				C.loom_op_builder_abandon(b)
				return nil, newError(InvalidArgument, "%s: input %s belongs to another graph", spec.Type, x.Name())
			}
			C.loom_op_builder_add_input(b, x.c())
		case OutputList:
			list := make([]C.loom_output, len(x))
			for i, o := range x {
				list[i] = o.c()
			}
			var p *C.loom_output
			if len(list) > 0 {
				p = &list[0]
			}
			C.loom_op_builder_add_input_list(b, p, C.int(len(list)))
		default:
			C.loom_op_builder_abandon(b)
			return nil, newError(InvalidArgument, "%s: unsupported input %T", spec.Type, in)
		}
	}
	for _, c := range spec.ControlDependencies {
		C.loom_op_builder_add_control_input(b, c.c)
	}
	if spec.Device != "" {
		cdev := C.CString(spec.Device)
		C.loom_op_builder_set_device(b, cdev)
		C.free(unsafe.Pointer(cdev))
	}
	var keep []*Tensor
	for name, value := range spec.Attrs {
		if err := setAttr(b, name, value, &keep); err != nil {
			C.loom_op_builder_abandon(b)
			return nil, fmt.Errorf("%s op %q: attr %q: %w", spec.Type, spec.Name, name, err)
		}
	}
	var c *C.loom_op
	err := statusError(C.loom_op_builder_finish(b, &c))
	runtime.KeepAlive(keep)
	if err != nil {
		return nil, err
	}
	return g.op(c), nil
}

func setAttr(b *C.loom_op_builder, name string, value interface{}, keep *[]*Tensor) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	switch v := value.(type) {
	case int:
		C.loom_op_builder_set_attr_int(b, cname, C.int64_t(v))
	case int64:
		C.loom_op_builder_set_attr_int(b, cname, C.int64_t(v))
	case int32:
		C.loom_op_builder_set_attr_int(b, cname, C.int64_t(v))
	case float32:
		C.loom_op_builder_set_attr_float(b, cname, C.float(v))
	case float64:
		C.loom_op_builder_set_attr_float(b, cname, C.float(v))
	case bool:
		C.loom_op_builder_set_attr_bool(b, cname, boolInt(v))
	case DataType:
		C.loom_op_builder_set_attr_type(b, cname, C.loom_dtype(v))
	case Shape:
		dims, n := shapeC(v)
		C.loom_op_builder_set_attr_shape(b, cname, dims, n)
	case string:
		cs := C.CString(v)
		C.loom_op_builder_set_attr_string(b, cname, unsafe.Pointer(cs), C.size_t(len(v)))
		C.free(unsafe.Pointer(cs))
	case *Tensor:
		if v == nil || v.handle() == nil {
			return newError(InvalidArgument, "nil or closed tensor")
		}
		*keep = append(*keep, v)
		C.loom_op_builder_set_attr_tensor(b, cname, v.c)
	case []int64:
		C.loom_op_builder_set_attr_int_list(b, cname, int64Ptr(v), C.int(len(v)))
	case []int:
		w := make([]int64, len(v))
		for i, x := range v {
			w[i] = int64(x)
		}
		C.loom_op_builder_set_attr_int_list(b, cname, int64Ptr(w), C.int(len(w)))
	case []float32:
		var p *C.float
		if len(v) > 0 {
			p = (*C.float)(unsafe.Pointer(&v[0]))
		}
		C.loom_op_builder_set_attr_float_list(b, cname, p, C.int(len(v)))
	case []bool:
		w := make([]C.int, len(v))
		for i, x := range v {
			w[i] = boolInt(x)
		}
		var p *C.int
		if len(w) > 0 {
			p = &w[0]
		}
		C.loom_op_builder_set_attr_bool_list(b, cname, p, C.int(len(w)))
	case []DataType:
		w := make([]C.loom_dtype, len(v))
		for i, x := range v {
			w[i] = C.loom_dtype(x)
		}
		var p *C.loom_dtype
		if len(w) > 0 {
			p = &w[0]
		}
		C.loom_op_builder_set_attr_type_list(b, cname, p, C.int(len(w)))
	case []Shape:
		// The C side wants an array of pointers: keep the dims in C memory.
		n := len(v)
		ptrs := (**C.int64_t)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(ptrs))
		ranks := make([]C.int, n+1)
		ps := unsafe.Slice(ptrs, n+1)
		for i, s := range v {
			dims, r := shapeC(s)
			ranks[i] = r
			if r > 0 {
				cd := (*C.int64_t)(C.malloc(C.size_t(r) * 8))
				defer C.free(unsafe.Pointer(cd))
				copy(unsafe.Slice(cd, int(r)), unsafe.Slice(dims, int(r)))
				ps[i] = cd
			}
		}
		C.loom_op_builder_set_attr_shape_list(b, cname, ptrs, &ranks[0], C.int(n))
	case []string:
		n := len(v)
		ptrs := (*unsafe.Pointer)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(ptrs))
		ps := unsafe.Slice(ptrs, n+1)
		lens := make([]C.size_t, n+1)
		for i, s := range v {
			cs := C.CString(s)
			defer C.free(unsafe.Pointer(cs))
			ps[i] = unsafe.Pointer(cs)
			lens[i] = C.size_t(len(s))
		}
		C.loom_op_builder_set_attr_string_list(b, cname, ptrs, &lens[0], C.int(n))
	case []*Tensor:
		w := make([]*C.loom_tensor, len(v)+1)
		for i, t := range v {
			if t == nil || t.handle() == nil {
				return newError(InvalidArgument, "nil or closed tensor in list")
			}
			*keep = append(*keep, t)
			w[i] = t.c
		}
		C.loom_op_builder_set_attr_tensor_list(b, cname, &w[0], C.int(len(v)))
	default:
		return newError(InvalidArgument, "unsupported attr value %T", value)
	}
	return nil
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func int64Ptr(v []int64) *C.int64_t {
	if len(v) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&v[0]))
}

// shapeC returns a pointer to the dims (Go memory, valid while s is) and the
// rank (-1 unknown).
func shapeC(s Shape) (*C.int64_t, C.int) {
	if !s.known {
		return nil, -1
	}
	return int64Ptr(s.dims), C.int(len(s.dims))
}
