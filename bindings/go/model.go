package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"runtime"
	"sort"
	"unsafe"
)

// Signature is one way of running a model: named inputs to feed, named
// outputs to fetch and target operations to run (e.g. "serving_default", or
// "train" with the training op as a target).
type Signature struct {
	Inputs  map[string]Output
	Outputs map[string]Output
	Targets []*Operation
}

// Model is a model directory loaded into a new graph and session.
type Model struct {
	Graph      *Graph
	Session    *Session
	Signatures map[string]Signature
}

// LoadModel loads the model directory dir (written by SaveModel, by Python's
// loom.saved_model.save or by loom_model_save): its graph, its variables and
// its signatures. options may be nil. Close the model when done.
func LoadModel(dir string, options *SessionOptions) (*Model, error) {
	g := NewGraph()
	if err := g.ref(); err != nil {
		return nil, err
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	co := options.c()
	defer C.loom_session_options_free(co)
	var cs *C.loom_session
	var csigs *C.loom_signatures
	g.mu.Lock()
	err := statusError(C.loom_model_load(cdir, g.c, co, &cs, &csigs))
	g.mu.Unlock()
	if err != nil {
		g.unref()
		g.Close()
		return nil, err
	}
	defer C.loom_signatures_free(csigs)
	m := &Model{Graph: g, Session: newSession(g, cs), Signatures: map[string]Signature{}}
	for i := 0; i < int(C.loom_signatures_count(csigs)); i++ {
		name := C.GoString(C.loom_signatures_name(csigs, C.int(i)))
		sig := Signature{Inputs: map[string]Output{}, Outputs: map[string]Output{}}
		for part := 0; part < 3; part++ {
			for j := 0; j < int(C.loom_signatures_num_entries(csigs, C.int(i), C.int(part))); j++ {
				var key, tensor *C.char
				if err := statusError(C.loom_signatures_entry(csigs, C.int(i), C.int(part), C.int(j), &key, &tensor)); err != nil {
					m.Close()
					return nil, err
				}
				if part == C.LOOM_SIGNATURE_TARGETS {
					op := g.Operation(C.GoString(tensor))
					if op == nil {
						m.Close()
						return nil, newError(NotFound, "model %s: signature %q: no target %q", dir, name, C.GoString(tensor))
					}
					sig.Targets = append(sig.Targets, op)
					continue
				}
				out, err := g.OutputByName(C.GoString(tensor))
				if err != nil {
					m.Close()
					return nil, err
				}
				if part == C.LOOM_SIGNATURE_INPUTS {
					sig.Inputs[C.GoString(key)] = out
				} else {
					sig.Outputs[C.GoString(key)] = out
				}
			}
		}
		m.Signatures[name] = sig
	}
	return m, nil
}

// Close closes the model's session and graph.
func (m *Model) Close() error {
	m.Session.Close()
	return m.Graph.Close()
}

// SaveModel writes the session's graph, all its variables (each must be
// initialized) and the signatures to the directory dir, creating it. Each
// file is written atomically.
func SaveModel(s *Session, dir string, signatures map[string]Signature) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	cs := C.loom_signatures_new()
	defer C.loom_signatures_free(cs)
	names := make([]string, 0, len(signatures))
	for name := range signatures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sig := signatures[name]
		cname := C.CString(name)
		for key, o := range sig.Inputs {
			ckey := C.CString(key)
			C.loom_signatures_add_input(cs, cname, ckey, o.c())
			C.free(unsafe.Pointer(ckey))
		}
		for key, o := range sig.Outputs {
			ckey := C.CString(key)
			C.loom_signatures_add_output(cs, cname, ckey, o.c())
			C.free(unsafe.Pointer(ckey))
		}
		for _, op := range sig.Targets {
			C.loom_signatures_add_target(cs, cname, op.c)
		}
		C.free(unsafe.Pointer(cname))
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	return statusError(C.loom_model_save(s.c, cdir, cs))
}

// CheckpointVariable describes one tensor of a checkpoint.
type CheckpointVariable struct {
	Name     string
	DataType DataType
	Shape    []int64
}

// Checkpoint is an open checkpoint file.
type Checkpoint struct {
	c *C.loom_checkpoint
}

// OpenCheckpoint opens a checkpoint and verifies its structure (DataLoss if
// damaged, NotFound if absent).
func OpenCheckpoint(path string) (*Checkpoint, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var c *C.loom_checkpoint
	if err := statusError(C.loom_checkpoint_open(cpath, &c)); err != nil {
		return nil, err
	}
	ck := &Checkpoint{c: c}
	runtime.SetFinalizer(ck, (*Checkpoint).Close)
	return ck, nil
}

// Variables lists the checkpoint's tensors, sorted by name.
func (ck *Checkpoint) Variables() []CheckpointVariable {
	defer runtime.KeepAlive(ck)
	n := int(C.loom_checkpoint_num_variables(ck.c))
	out := make([]CheckpointVariable, n)
	for i := range out {
		v := &out[i]
		v.Name = C.GoString(C.loom_checkpoint_variable_name(ck.c, C.int(i)))
		v.DataType = DataType(C.loom_checkpoint_variable_dtype(ck.c, C.int(i)))
		v.Shape = make([]int64, int(C.loom_checkpoint_variable_num_dims(ck.c, C.int(i))))
		for d := range v.Shape {
			v.Shape[d] = int64(C.loom_checkpoint_variable_dim(ck.c, C.int(i), C.int(d)))
		}
	}
	return out
}

// Read returns the tensor called name, its checksum verified.
func (ck *Checkpoint) Read(name string) (*Tensor, error) {
	defer runtime.KeepAlive(ck)
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var t *C.loom_tensor
	if err := statusError(C.loom_checkpoint_read(ck.c, cname, &t)); err != nil {
		return nil, err
	}
	return newTensorFromC(t), nil
}

// Close releases the checkpoint.
func (ck *Checkpoint) Close() error {
	if ck.c != nil {
		C.loom_checkpoint_free(ck.c)
		ck.c = nil
		runtime.SetFinalizer(ck, nil)
	}
	return nil
}

// Devices returns the names of the devices of all loaded plugins.
func Devices() []string {
	n := int(C.loom_device_count())
	out := make([]string, n)
	for i := range out {
		out[i] = C.GoString(C.loom_device_name(C.int(i)))
	}
	return out
}

// OpTypes returns the registered op types, sorted.
func OpTypes() []string {
	n := int(C.loom_op_type_count())
	out := make([]string, n)
	for i := range out {
		out[i] = C.GoString(C.loom_op_type_at(C.int(i)))
	}
	return out
}
