package loom

// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import "fmt"

// Code is a canonical status code (the same numbers as TensorFlow and absl).
type Code int

// The canonical codes.
const (
	OK                 Code = 0
	Cancelled          Code = 1
	Unknown            Code = 2
	InvalidArgument    Code = 3
	DeadlineExceeded   Code = 4
	NotFound           Code = 5
	AlreadyExists      Code = 6
	PermissionDenied   Code = 7
	ResourceExhausted  Code = 8
	FailedPrecondition Code = 9
	Aborted            Code = 10
	OutOfRange         Code = 11
	Unimplemented      Code = 12
	Internal           Code = 13
	Unavailable        Code = 14
	DataLoss           Code = 15
	Unauthenticated    Code = 16
)

// String returns the code's canonical name ("INVALID_ARGUMENT").
func (c Code) String() string { return C.GoString(C.loom_code_name(C.loom_code(c))) }

// Error is an error reported by Loom: a code and a message that names the op
// and what was expected.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("loom: %s: %s", e.Code, e.Message) }

// ErrorCode returns the Code of err if it is a *Error (or wraps one), OK for
// nil, and Unknown otherwise.
func ErrorCode(err error) Code {
	if err == nil {
		return OK
	}
	for e := err; e != nil; {
		if le, ok := e.(*Error); ok {
			return le.Code
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return Unknown
}

// statusError converts (and frees) a loom_status; nil for OK.
func statusError(s *C.loom_status) error {
	if s == nil {
		return nil
	}
	err := &Error{Code: Code(C.loom_status_code(s)), Message: C.GoString(C.loom_status_message(s))}
	C.loom_status_free(s)
	return err
}

func newError(code Code, format string, args ...interface{}) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Version returns the library's version string.
func Version() string { return C.GoString(C.loom_version()) }
