// Package loom is the Go binding of Loom, a dataflow-graph machine-learning
// runtime: build or import a graph, run it in a session, save and restore its
// variables, and load models trained in Python.
//
// The package calls only Loom's C API (loom.h) through cgo. The header is
// found in the source tree; the library comes from the environment:
//
//	CGO_LDFLAGS="-L<build>/lib -Wl,-rpath,<build>/lib" go test ./...
//
// (scripts/test.sh sets this up). Every object that holds C memory -- Graph,
// Session, Tensor -- has a Close method; call it (a finalizer frees what is
// forgotten, but only as a safety net). Errors are *Error values carrying
// Loom's status code.
package loom

// #cgo CFLAGS: -I${SRCDIR}/../../capi/include
// #cgo LDFLAGS: -lloom
import "C"
