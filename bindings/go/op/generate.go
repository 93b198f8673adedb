package op

// The op functions are generated from the op registry of the libloom the
// generator links (CGO_LDFLAGS as for the tests):
//
//go:generate go run -buildvcs=false ./internal/genops -out ops_generated.go
