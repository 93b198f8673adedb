// Command genops writes bindings/go/op/ops_generated.go: one Go function per
// op registered in the libloom it links, from the schemas that
// loom_op_type_schema describes. Run it through `go generate` in
// bindings/go/op.
package main

// #cgo CFLAGS: -I${SRCDIR}/../../../../../capi/include
// #cgo LDFLAGS: -lloom
// #include <stdlib.h>
// #include "loom/loom.h"
import "C"

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
	"unsafe"
)

type arg struct {
	name string
	spec string // "T", "float", "N*T", "list:Tlist"
	ref  bool
}

func (a arg) numberAttr() string {
	if i := strings.IndexByte(a.spec, '*'); i >= 0 {
		return a.spec[:i]
	}
	return ""
}
func (a arg) typeListAttr() string { return strings.TrimPrefix(a.spec, "list:") }
func (a arg) isTypeList() bool     { return strings.HasPrefix(a.spec, "list:") }
func (a arg) isList() bool         { return a.numberAttr() != "" || a.isTypeList() }

// typeAttr is the attr giving the arg's dtype, if any.
func (a arg) typeAttr() string {
	t := a.spec
	if i := strings.IndexByte(t, '*'); i >= 0 {
		t = t[i+1:]
	}
	if a.isTypeList() || isDtypeName(t) {
		return ""
	}
	return t
}

type attr struct {
	name, typ  string
	hasDefault bool
}

type opDef struct {
	name           string
	inputs, output []arg
	attrs          []attr
}

var dtypeNames = map[string]bool{"float": true, "double": true, "int32": true, "uint8": true, "int16": true,
	"int8": true, "string": true, "int64": true, "bool": true, "bfloat16": true, "uint16": true, "half": true,
	"uint32": true, "uint64": true}

func isDtypeName(s string) bool { return dtypeNames[s] }

func parse(schema string) opDef {
	var d opDef
	for _, line := range strings.Split(strings.TrimSpace(schema), "\n") {
		f := strings.Fields(line)
		switch f[0] {
		case "op":
			d.name = f[1]
		case "input", "output":
			a := arg{name: f[1], spec: f[2], ref: len(f) > 3 && f[3] == "ref"}
			if f[0] == "input" {
				d.inputs = append(d.inputs, a)
			} else {
				d.output = append(d.output, a)
			}
		case "attr":
			d.attrs = append(d.attrs, attr{name: f[1], typ: f[2], hasDefault: f[3] == "1"})
		}
	}
	return d
}

var goTypes = map[string]string{
	"int": "int64", "float": "float32", "bool": "bool", "type": "loom.DataType", "shape": "loom.Shape",
	"string": "string", "tensor": "*loom.Tensor", "list(int)": "[]int64", "list(float)": "[]float32",
	"list(bool)": "[]bool", "list(type)": "[]loom.DataType", "list(shape)": "[]loom.Shape",
	"list(string)": "[]string", "list(tensor)": "[]*loom.Tensor",
}

var reserved = map[string]bool{"break": true, "case": true, "chan": true, "const": true, "continue": true,
	"default": true, "defer": true, "else": true, "fallthrough": true, "for": true, "func": true, "go": true,
	"goto": true, "if": true, "import": true, "interface": true, "map": true, "package": true, "range": true,
	"return": true, "select": true, "struct": true, "switch": true, "type": true, "var": true, "scope": true,
	"optional": true, "loom": true, "op": true, "attrs": true, "idx": true, "err": true, "n": true,
	"output": true, "outputs": true}

// camel turns snake_case into CamelCase (upper) or camelCase.
func camel(s string, upper bool) string {
	var b strings.Builder
	up := upper
	for i, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else if i == 0 && !upper {
			b.WriteString(strings.ToLower(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func param(s string) string {
	p := camel(s, false)
	if reserved[p] {
		p += "_"
	}
	return p
}

func generate(d opDef, out *bytes.Buffer) bool {
	inferred := map[string]bool{}
	for _, a := range d.inputs {
		for _, n := range []string{a.typeAttr(), a.numberAttr()} {
			if n != "" {
				inferred[n] = true
			}
		}
		if a.isTypeList() {
			inferred[a.typeListAttr()] = true
		}
	}
	var required, optional []attr
	for _, a := range d.attrs {
		if _, ok := goTypes[a.typ]; !ok {
			return false
		}
		switch {
		case inferred[a.name]:
		case a.hasDefault:
			optional = append(optional, a)
		default:
			required = append(required, a)
		}
	}
	// Outputs: at most one list whose size is not an int attr.
	typeLists := 0
	for _, o := range d.output {
		if o.isTypeList() {
			typeLists++
		}
	}
	if typeLists > 1 {
		return false
	}

	used := map[string]bool{}
	name := func(s string) string {
		p := param(s)
		for used[p] {
			p += "_"
		}
		used[p] = true
		return p
	}
	var params, inputs, attrSets, results []string
	for _, a := range d.inputs {
		p := name(a.name)
		if a.isList() {
			params = append(params, p+" []loom.Output")
			inputs = append(inputs, "loom.OutputList("+p+")")
		} else {
			params = append(params, p+" loom.Output")
			inputs = append(inputs, p)
		}
	}
	for _, a := range required {
		p := name(a.name)
		params = append(params, p+" "+goTypes[a.typ])
		attrSets = append(attrSets, fmt.Sprintf("%q: %s,", a.name, p))
	}
	optType := d.name + "Attr"
	if len(optional) > 0 {
		params = append(params, "optional ..."+optType)
	}
	resultNames := make([]string, len(d.output))
	for i, o := range d.output {
		resultNames[i] = name(o.name)
		if o.isList() {
			results = append(results, resultNames[i]+" []loom.Output")
		} else {
			results = append(results, resultNames[i]+" loom.Output")
		}
	}
	var ins, outs []string
	for _, a := range d.inputs {
		ins = append(ins, a.name)
	}
	for _, a := range d.output {
		outs = append(outs, a.name)
	}

	if len(optional) > 0 {
		fmt.Fprintf(out, "// %s is an optional attribute of %s.\ntype %s func(optionalAttr)\n\n", optType, d.name, optType)
		for _, a := range optional {
			fn := d.name + camel(a.name, true)
			fmt.Fprintf(out, "// %s sets the optional %s attribute of %s.\nfunc %s(value %s) %s {\n\treturn func(m optionalAttr) { m[%q] = value }\n}\n\n",
				fn, a.name, d.name, fn, goTypes[a.typ], optType, a.name)
		}
	}
	fmt.Fprintf(out, "// %s adds a %s op (inputs: %s; outputs: %s), with TensorFlow's semantics.\n",
		d.name, d.name, listOrNone(ins), listOrNone(outs))
	resultList := ""
	switch {
	case len(d.output) == 0:
		resultList = "*loom.Operation"
	default:
		resultList = "(" + strings.Join(results, ", ") + ")"
	}
	fmt.Fprintf(out, "func %s(scope *Scope, %s) %s {\n", d.name, strings.Join(params, ", "), resultList)
	fmt.Fprintf(out, "\tif scope.Err() != nil {\n\t\treturn%s\n\t}\n", map[bool]string{true: " nil", false: ""}[len(d.output) == 0])
	fmt.Fprintf(out, "\tattrs := map[string]interface{}{%s}\n", strings.Join(attrSets, " "))
	if len(optional) > 0 {
		fmt.Fprintf(out, "\tfor _, a := range optional {\n\t\ta(attrs)\n\t}\n")
	}
	fmt.Fprintf(out, "\top := scope.AddOperation(loom.OpSpec{Type: %q, Input: []loom.Input{%s}, Attrs: attrs})\n",
		d.name, strings.Join(inputs, ", "))
	if len(d.output) == 0 {
		fmt.Fprintf(out, "\treturn op\n}\n\n")
		return true
	}
	fmt.Fprintf(out, "\tif op == nil {\n\t\treturn\n\t}\n")
	hasList := false
	for _, o := range d.output {
		hasList = hasList || o.isList()
	}
	if !hasList {
		for i := range d.output {
			fmt.Fprintf(out, "\t%s = op.Output(%d)\n", resultNames[i], i)
		}
		fmt.Fprintf(out, "\treturn\n}\n\n")
		return true
	}
	fmt.Fprintf(out, "\tidx := 0\n")
	for i, o := range d.output {
		r := resultNames[i]
		switch {
		case o.numberAttr() != "":
			fmt.Fprintf(out, "\tn, err := op.AttrInt(%q)\n\tif err != nil {\n\t\tscope.UpdateErr(%q, err)\n\t\treturn\n\t}\n", o.numberAttr(), d.name)
			fmt.Fprintf(out, "\t%s = outputs(op, idx, int(n))\n\tidx += int(n)\n", r)
		case o.isTypeList():
			rest := 0
			for _, later := range d.output[i+1:] {
				if !later.isList() {
					rest++
				}
			}
			fmt.Fprintf(out, "\t%s = outputs(op, idx, op.NumOutputs()-idx-%d)\n\tidx += len(%s)\n", r, rest, r)
		default:
			fmt.Fprintf(out, "\t%s = output(op, idx)\n\tidx++\n", r)
		}
	}
	fmt.Fprintf(out, "\t_ = idx\n\treturn\n}\n\n")
	return true
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func main() {
	outPath := flag.String("out", "ops_generated.go", "file to write")
	flag.Parse()
	var buf bytes.Buffer
	buf.WriteString("// Code generated by bindings/go/op/internal/genops from Loom's op registry. DO NOT EDIT.\n")
	buf.WriteString("// Regenerate: cd bindings/go/op && go generate (with CGO_LDFLAGS pointing at libloom).\n\n")
	buf.WriteString("package op\n\nimport \"loom.dev/loom\"\n\n")
	var skipped []string
	n := int(C.loom_op_type_count())
	count := 0
	for i := 0; i < n; i++ {
		opType := C.GoString(C.loom_op_type_at(C.int(i)))
		if opType == "" || opType[0] < 'A' || opType[0] > 'Z' || opType == "Const" {
			continue
		}
		ctype := C.CString(opType)
		cs := C.loom_op_type_schema(ctype)
		C.free(unsafe.Pointer(ctype))
		if cs == nil {
			continue
		}
		schema := C.GoString(cs)
		C.loom_string_free(cs)
		if generate(parse(schema), &buf) {
			count++
		} else {
			skipped = append(skipped, opType)
		}
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		log.Fatalf("genops: generated code does not parse: %v", err)
	}
	if err := os.WriteFile(*outPath, src, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("genops: %d op functions written to %s", count, *outPath)
	if len(skipped) > 0 {
		fmt.Printf(" (skipped: %s)", strings.Join(skipped, ", "))
	}
	fmt.Println()
}
