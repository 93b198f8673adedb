module loom.dev/examples

go 1.19

require loom.dev/loom v0.0.0

replace loom.dev/loom => ../../bindings/go
