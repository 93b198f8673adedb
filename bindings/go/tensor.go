package loom

// #include <stdlib.h>
// #include <string.h>
// #include "loom/loom.h"
import "C"

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"unsafe"
)

// DataType is an element type, numbered as TensorFlow's DataType.
type DataType int

// The data types Loom's tensors may have.
const (
	Float    DataType = 1
	Double   DataType = 2
	Int32    DataType = 3
	Uint8    DataType = 4
	Int16    DataType = 5
	Int8     DataType = 6
	String   DataType = 7 // attrs only; tensors cannot hold strings
	Int64    DataType = 9
	Bool     DataType = 10
	BFloat16 DataType = 14
	Uint16   DataType = 17
	Half     DataType = 19
	Uint32   DataType = 22
	Uint64   DataType = 23
)

// String returns the name TensorFlow uses ("float", "int32", ...).
func (dt DataType) String() string { return C.GoString(C.loom_dtype_name(C.loom_dtype(dt))) }

// Size returns the bytes per element (0 for String or an unknown type).
func (dt DataType) Size() int { return int(C.loom_dtype_size(C.loom_dtype(dt))) }

var goTypes = map[reflect.Kind]DataType{
	reflect.Float32: Float, reflect.Float64: Double, reflect.Int32: Int32, reflect.Int64: Int64,
	reflect.Int16: Int16, reflect.Int8: Int8, reflect.Uint8: Uint8, reflect.Uint16: Uint16,
	reflect.Uint32: Uint32, reflect.Uint64: Uint64, reflect.Bool: Bool,
}

var elemTypes = map[DataType]reflect.Type{
	Float: reflect.TypeOf(float32(0)), Double: reflect.TypeOf(float64(0)), Int32: reflect.TypeOf(int32(0)),
	Int64: reflect.TypeOf(int64(0)), Int16: reflect.TypeOf(int16(0)), Int8: reflect.TypeOf(int8(0)),
	Uint8: reflect.TypeOf(uint8(0)), Uint16: reflect.TypeOf(uint16(0)), Uint32: reflect.TypeOf(uint32(0)),
	Uint64: reflect.TypeOf(uint64(0)), Bool: reflect.TypeOf(false),
	Half: reflect.TypeOf(uint16(0)), BFloat16: reflect.TypeOf(uint16(0)),
}

// Tensor is an n-dimensional array in host memory owned by Loom. Close frees
// it; a Tensor must not be used after Close. Tensors are safe to read from
// several goroutines.
type Tensor struct {
	mu sync.Mutex
	c  *C.loom_tensor
}

func newTensorFromC(c *C.loom_tensor) *Tensor {
	t := &Tensor{c: c}
	runtime.SetFinalizer(t, (*Tensor).Close) // safety net only; call Close
	return t
}

// NewTensor makes a tensor from a Go value: a scalar (float32, float64, int8
// ... uint64, bool), or a slice or array of them, nested for more dimensions
// (it must be rectangular). The data is copied.
func NewTensor(value interface{}) (*Tensor, error) {
	v := reflect.ValueOf(value)
	if !v.IsValid() {
		return nil, newError(InvalidArgument, "NewTensor: nil value")
	}
	var dims []int64
	t := v.Type()
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	dt, ok := goTypes[t.Kind()]
	if !ok {
		return nil, newError(InvalidArgument, "NewTensor: unsupported element type %v of %T", t, value)
	}
	// Shape from the first element along each dimension; rectangularity is
	// checked while copying.
	for cur := v; cur.Kind() == reflect.Slice || cur.Kind() == reflect.Array; {
		dims = append(dims, int64(cur.Len()))
		if cur.Len() == 0 {
			for tt := cur.Type().Elem(); tt.Kind() == reflect.Slice || tt.Kind() == reflect.Array; tt = tt.Elem() {
				dims = append(dims, 0)
			}
			break
		}
		cur = cur.Index(0)
	}
	out, err := NewTensorOfShape(dt, dims)
	if err != nil {
		return nil, err
	}
	flat := out.flat()
	n := 0
	var fill func(x reflect.Value, depth int) error
	fill = func(x reflect.Value, depth int) error {
		if depth == len(dims) {
			flat.Index(n).Set(x.Convert(flat.Type().Elem()))
			n++
			return nil
		}
		if int64(x.Len()) != dims[depth] {
			return newError(InvalidArgument, "NewTensor: %T is not rectangular: dimension %d has lengths %d and %d",
				value, depth, dims[depth], x.Len())
		}
		for i := 0; i < x.Len(); i++ {
			if err := fill(x.Index(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fill(v, 0); err != nil {
		out.Close()
		return nil, err
	}
	return out, nil
}

// NewTensorOfShape allocates a zero-filled tensor.
func NewTensorOfShape(dt DataType, dims []int64) (*Tensor, error) {
	var c *C.loom_tensor
	var dimsPtr *C.int64_t
	if len(dims) > 0 {
		dimsPtr = (*C.int64_t)(unsafe.Pointer(&dims[0]))
	}
	if err := statusError(C.loom_tensor_new(C.loom_dtype(dt), dimsPtr, C.int(len(dims)), &c)); err != nil {
		return nil, err
	}
	return newTensorFromC(c), nil
}

// NewTensorFromBytes makes a tensor of the given type and shape from raw
// little-endian element bytes (len(data) must match). The data is copied.
func NewTensorFromBytes(dt DataType, dims []int64, data []byte) (*Tensor, error) {
	t, err := NewTensorOfShape(dt, dims)
	if err != nil {
		return nil, err
	}
	if int(t.ByteSize()) != len(data) {
		n := t.ByteSize()
		t.Close()
		return nil, newError(InvalidArgument, "NewTensorFromBytes: %d bytes for a %v tensor of shape %v, which needs %d",
			len(data), dt, dims, n)
	}
	copy(t.Bytes(), data)
	return t, nil
}

// Close frees the tensor. It is safe to call more than once.
func (t *Tensor) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.c != nil {
		C.loom_tensor_free(t.c)
		t.c = nil
		runtime.SetFinalizer(t, nil)
	}
	return nil
}

func (t *Tensor) handle() *C.loom_tensor {
	if t == nil {
		return nil
	}
	return t.c
}

// DataType returns the element type.
func (t *Tensor) DataType() DataType {
	defer runtime.KeepAlive(t)
	return DataType(C.loom_tensor_dtype(t.handle()))
}

// Shape returns the dimensions (empty for a scalar).
func (t *Tensor) Shape() []int64 {
	defer runtime.KeepAlive(t)
	n := int(C.loom_tensor_num_dims(t.handle()))
	dims := make([]int64, n)
	for i := range dims {
		dims[i] = int64(C.loom_tensor_dim(t.handle(), C.int(i)))
	}
	return dims
}

// NumElements returns the number of elements.
func (t *Tensor) NumElements() int64 {
	defer runtime.KeepAlive(t)
	return int64(C.loom_tensor_num_elements(t.handle()))
}

// ByteSize returns the size of the data in bytes.
func (t *Tensor) ByteSize() int64 {
	defer runtime.KeepAlive(t)
	return int64(C.loom_tensor_byte_size(t.handle()))
}

// Bytes returns the tensor's data, little-endian, without copying. The slice
// is valid until Close; write to it only before feeding the tensor to a session.
func (t *Tensor) Bytes() []byte {
	n := t.ByteSize()
	if n == 0 {
		return nil
	}
	p := C.loom_tensor_data(t.handle())
	runtime.KeepAlive(t)
	return unsafe.Slice((*byte)(p), n)
}

// flat returns the data as a Go slice of the element type (aliasing C memory).
func (t *Tensor) flat() reflect.Value {
	dt := t.DataType()
	n := int(t.NumElements())
	p := unsafe.Pointer(C.loom_tensor_data(t.handle()))
	runtime.KeepAlive(t)
	if n == 0 || p == nil {
		return reflect.MakeSlice(reflect.SliceOf(elemTypes[dt]), 0, 0)
	}
	var s interface{}
	switch dt {
	case Float:
		s = unsafe.Slice((*float32)(p), n)
	case Double:
		s = unsafe.Slice((*float64)(p), n)
	case Int32:
		s = unsafe.Slice((*int32)(p), n)
	case Int64:
		s = unsafe.Slice((*int64)(p), n)
	case Int16:
		s = unsafe.Slice((*int16)(p), n)
	case Int8:
		s = unsafe.Slice((*int8)(p), n)
	case Uint8:
		s = unsafe.Slice((*uint8)(p), n)
	case Uint16, Half, BFloat16:
		s = unsafe.Slice((*uint16)(p), n)
	case Uint32:
		s = unsafe.Slice((*uint32)(p), n)
	case Uint64:
		s = unsafe.Slice((*uint64)(p), n)
	case Bool:
		s = unsafe.Slice((*bool)(p), n)
	default:
		return reflect.ValueOf([]byte(nil))
	}
	return reflect.ValueOf(s)
}

// Value copies the tensor into Go values: a scalar for rank 0, else nested
// slices ([][]float32 for a float matrix). Half and bfloat16 come back as
// their uint16 bit patterns.
func (t *Tensor) Value() interface{} {
	dims := t.Shape()
	flat := t.flat()
	et := flat.Type().Elem()
	if len(dims) == 0 {
		if flat.Len() == 0 {
			return nil
		}
		return flat.Index(0).Interface()
	}
	var build func(depth int, offset int) reflect.Value
	stride := make([]int, len(dims)+1)
	stride[len(dims)] = 1
	for i := len(dims) - 1; i >= 0; i-- {
		stride[i] = stride[i+1] * int(dims[i])
	}
	build = func(depth, offset int) reflect.Value {
		typ := et
		for i := depth; i < len(dims); i++ {
			typ = reflect.SliceOf(typ)
		}
		n := int(dims[depth])
		out := reflect.MakeSlice(typ, n, n)
		if depth == len(dims)-1 {
			reflect.Copy(out, flat.Slice(offset, offset+n))
			return out
		}
		for i := 0; i < n; i++ {
			out.Index(i).Set(build(depth+1, offset+i*stride[depth+1]))
		}
		return out
	}
	v := build(0, 0).Interface()
	runtime.KeepAlive(t)
	return v
}

// Float32s returns a copy of a float tensor's elements, flattened.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.DataType() != Float {
		return nil, newError(InvalidArgument, "Float32s: tensor is %v, not float", t.DataType())
	}
	out := make([]float32, t.NumElements())
	reflect.Copy(reflect.ValueOf(out), t.flat())
	runtime.KeepAlive(t)
	return out, nil
}

// String describes the tensor ("Tensor<float [2 3]>").
func (t *Tensor) String() string { return fmt.Sprintf("Tensor<%v %v>", t.DataType(), t.Shape()) }
