package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// ServerOptions configures a Server beyond its cluster and task.
type ServerOptions struct {
	// Transport scheme ("zmq"); "" or "grpc": the default transport.
	Protocol string
	// Transport options: "secret_key"/"public_key" (CURVE), "heartbeat_ms", ...
	TransportOptions map[string]string
	// Listen on a non-loopback address without keys (refused otherwise).
	Insecure bool
	// Threads running this server's steps (0: the number of cores).
	Threads int
}

// Server is one task of a cluster: it runs the partitions that sessions
// (with its Target, or any other server's of the cluster) place on it.
// Variables on a server are shared by every session that names them.
type Server struct {
	mu sync.Mutex
	c  *C.loom_server
}

// NewServer creates and starts a server for task `task` of job `job` in the
// cluster given as JSON ({"ps": ["host:2222"], "worker": ["host:2223"]}).
// options may be nil.
func NewServer(clusterJSON, job string, task int, options *ServerOptions) (*Server, error) {
	o := C.loom_server_options_new()
	defer C.loom_server_options_free(o)
	cj := C.CString(clusterJSON)
	defer C.free(unsafe.Pointer(cj))
	if err := statusError(C.loom_server_options_set_cluster(o, cj)); err != nil {
		return nil, err
	}
	cjob := C.CString(job)
	defer C.free(unsafe.Pointer(cjob))
	C.loom_server_options_set_task(o, cjob, C.int(task))
	if options != nil {
		if options.Protocol != "" {
			p := C.CString(options.Protocol)
			C.loom_server_options_set_protocol(o, p)
			C.free(unsafe.Pointer(p))
		}
		for k, v := range options.TransportOptions {
			ck, cv := C.CString(k), C.CString(v)
			C.loom_server_options_set_transport_option(o, ck, cv)
			C.free(unsafe.Pointer(ck))
			C.free(unsafe.Pointer(cv))
		}
		C.loom_server_options_set_insecure(o, boolInt(options.Insecure))
		C.loom_server_options_set_threads(o, C.int(options.Threads))
	}
	var c *C.loom_server
	if err := statusError(C.loom_server_new(o, &c)); err != nil {
		return nil, err
	}
	if err := statusError(C.loom_server_start(c)); err != nil {
		C.loom_server_free(c)
		return nil, err
	}
	s := &Server{c: c}
	runtime.SetFinalizer(s, (*Server).Close) // safety net only; call Close
	return s, nil
}

// Target is the address sessions use to reach this server ("zmq://host:port").
func (s *Server) Target() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return ""
	}
	return C.GoString(C.loom_server_target(s.c))
}

// Join blocks until the server is stopped (Stop, or SIGTERM/SIGINT for a
// server that handles signals).
func (s *Server) Join() {
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c != nil {
		C.loom_server_join(c)
	}
}

// Stop stops serving; Join returns.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		C.loom_server_stop(s.c)
	}
}

// Close stops the server, waits for its running steps and frees it. Safe to
// call twice.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		C.loom_server_free(s.c)
		s.c = nil
	}
	return nil
}
