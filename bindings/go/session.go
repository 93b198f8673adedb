package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// SessionOptions configures a Session; the zero value picks defaults.
type SessionOptions struct {
	// Threads running independent ops (0: choose; 1: run every op in the caller).
	InterOpThreads int
	// Threads a kernel may split its work over (0: the number of cores).
	IntraOpThreads int
	// Device for ops that request none ("/device:CPU:0").
	DefaultDevice string
	// Place an op on CPU when its requested device has no kernel for it.
	AllowSoftPlacement bool
	// Print each op's device to stderr when a step is first prepared.
	LogDevicePlacement bool
	// A server of a cluster ("zmq://host:port"; "grpc://host:port" is
	// accepted): the session then places and runs the graph over the
	// cluster's tasks (see NewServer). "": this process only.
	Target string
	// Bound on every step over a cluster, in milliseconds (0: none).
	OperationTimeoutMs int64
	// Transport options (keys of a secure cluster: "server_key", ...).
	TransportOptions map[string]string
}

func (o *SessionOptions) c() *C.loom_session_options {
	if o == nil {
		return nil
	}
	c := C.loom_session_options_new()
	C.loom_session_options_set_inter_op_threads(c, C.int(o.InterOpThreads))
	C.loom_session_options_set_intra_op_threads(c, C.int(o.IntraOpThreads))
	if o.DefaultDevice != "" {
		d := C.CString(o.DefaultDevice)
		C.loom_session_options_set_default_device(c, d)
		C.free(unsafe.Pointer(d))
	}
	C.loom_session_options_set_allow_soft_placement(c, boolInt(o.AllowSoftPlacement))
	C.loom_session_options_set_log_device_placement(c, boolInt(o.LogDevicePlacement))
	if o.Target != "" {
		t := C.CString(o.Target)
		C.loom_session_options_set_target(c, t)
		C.free(unsafe.Pointer(t))
	}
	C.loom_session_options_set_operation_timeout(c, C.int64_t(o.OperationTimeoutMs))
	for k, v := range o.TransportOptions {
		ck, cv := C.CString(k), C.CString(v)
		C.loom_session_options_set_transport_option(c, ck, cv)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
	}
	return c
}

// Session runs a Graph and owns its variables. Run may be called from
// several goroutines at once. Close waits for runs in flight.
type Session struct {
	mu    sync.RWMutex // read: a run (or save/restore) in flight; write: Close
	c     *C.loom_session
	graph *Graph
}

// NewSession creates a session over g (which may keep growing). options may
// be nil.
func NewSession(g *Graph, options *SessionOptions) (*Session, error) {
	if err := g.ref(); err != nil {
		return nil, err
	}
	co := options.c()
	defer C.loom_session_options_free(co)
	var c *C.loom_session
	g.mu.RLock()
	err := statusError(C.loom_session_new(g.c, co, &c))
	g.mu.RUnlock()
	if err != nil {
		g.unref()
		return nil, err
	}
	return newSession(g, c), nil
}

func newSession(g *Graph, c *C.loom_session) *Session {
	s := &Session{c: c, graph: g}
	runtime.SetFinalizer(s, (*Session).Close) // safety net only; call Close
	return s
}

// Graph returns the session's graph.
func (s *Session) Graph() *Graph { return s.graph }

// Close waits for the runs in flight, then releases the session and its
// variables. Later calls fail with FailedPrecondition. Safe to call twice.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil
	}
	runtime.SetFinalizer(s, nil)
	C.loom_session_free(s.c)
	s.c = nil
	s.graph.unref()
	return nil
}

// acquire marks a call in flight; the returned func ends it.
func (s *Session) acquire() (func(), error) {
	s.mu.RLock()
	if s.c == nil {
		s.mu.RUnlock()
		return nil, newError(FailedPrecondition, "the session is closed")
	}
	s.graph.mu.RLock()
	return func() {
		s.graph.mu.RUnlock()
		s.mu.RUnlock()
	}, nil
}

// Run feeds the given tensors, computes fetches and runs targets for their
// effects. The returned tensors belong to the caller (Close them). Feeds must
// match the fed outputs' dtypes and shapes.
func (s *Session) Run(feeds map[Output]*Tensor, fetches []Output, targets []*Operation) ([]*Tensor, error) {
	release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	cfeeds := make([]C.loom_output, 0, len(feeds)+1)
	cvalues := make([]*C.loom_tensor, 0, len(feeds)+1)
	for o, t := range feeds {
		if o.Op == nil || o.Op.g != s.graph {
			return nil, newError(InvalidArgument, "feed %v is not an output of the session's graph", o)
		}
		if t.handle() == nil {
			return nil, newError(InvalidArgument, "feed for %s is a nil or closed tensor", o.Name())
		}
		cfeeds = append(cfeeds, o.c())
		cvalues = append(cvalues, t.c)
	}
	cfetches := make([]C.loom_output, len(fetches)+1)
	for i, o := range fetches {
		if o.Op == nil || o.Op.g != s.graph {
			return nil, newError(InvalidArgument, "fetch %d is not an output of the session's graph", i)
		}
		cfetches[i] = o.c()
	}
	ctargets := make([]*C.loom_op, len(targets)+1)
	for i, op := range targets {
		if op == nil || op.g != s.graph {
			return nil, newError(InvalidArgument, "target %d is not an operation of the session's graph", i)
		}
		ctargets[i] = op.c
	}
	out := make([]*C.loom_tensor, len(fetches)+1)
	cfeeds = append(cfeeds, C.loom_output{})
	cvalues = append(cvalues, nil)
	err = statusError(C.loom_session_run(s.c, &cfeeds[0], &cvalues[0], C.int(len(feeds)), &cfetches[0],
		C.int(len(fetches)), &ctargets[0], C.int(len(targets)), &out[0]))
	runtime.KeepAlive(feeds)
	if err != nil {
		return nil, err
	}
	result := make([]*Tensor, len(fetches))
	for i := range result {
		result[i] = newTensorFromC(out[i])
	}
	return result, nil
}

func cStrings(names []string) (**C.char, func()) {
	if len(names) == 0 {
		return nil, func() {}
	}
	arr := (**C.char)(C.calloc(C.size_t(len(names)), C.size_t(unsafe.Sizeof(uintptr(0)))))
	ps := unsafe.Slice(arr, len(names))
	for i, n := range names {
		ps[i] = C.CString(n)
	}
	return arr, func() {
		for _, p := range ps {
			C.free(unsafe.Pointer(p))
		}
		C.free(unsafe.Pointer(arr))
	}
}

// Save writes the named variables (none: every variable of the graph) to a
// checkpoint at path, atomically: a crash mid-save leaves the previous file.
func (s *Session) Save(path string, variables ...string) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	names, free := cStrings(variables)
	defer free()
	return statusError(C.loom_session_save(s.c, cpath, names, C.int(len(variables))))
}

// Restore reads the named variables (none: every variable of the graph) from
// the checkpoint at path. A damaged file is a DataLoss error naming the
// variable, and then no variable has changed.
func (s *Session) Restore(path string, variables ...string) error {
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	names, free := cStrings(variables)
	defer free()
	return statusError(C.loom_session_restore(s.c, cpath, names, C.int(len(variables))))
}
