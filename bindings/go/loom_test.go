package loom

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func add(t *testing.T, g *Graph, spec OpSpec) *Operation {
	t.Helper()
	op, err := g.AddOperation(spec)
	must(t, err)
	return op
}

func constant(t *testing.T, g *Graph, name string, value interface{}) Output {
	t.Helper()
	v, err := NewTensor(value)
	must(t, err)
	defer v.Close()
	return add(t, g, OpSpec{Type: "Const", Name: name, Attrs: map[string]interface{}{"value": v, "dtype": v.DataType()}}).Output(0)
}

func placeholder(t *testing.T, g *Graph, name string, dt DataType, shape Shape) Output {
	t.Helper()
	return add(t, g, OpSpec{Type: "Placeholder", Name: name, Attrs: map[string]interface{}{"dtype": dt, "shape": shape}}).Output(0)
}

func TestTensorFromGoValuesAndBack(t *testing.T) {
	cases := []interface{}{
		float32(2.5), int64(-7), true,
		[]float32{1, 2, 3},
		[][]int32{{1, 2, 3}, {4, 5, 6}},
		[][][]float64{{{1}, {2}}, {{3}, {4}}},
		[]bool{true, false},
		[]uint8{0, 255},
		[2][2]int16{{1, -2}, {3, -4}},
	}
	for _, c := range cases {
		tensor, err := NewTensor(c)
		must(t, err)
		got := tensor.Value()
		want := c
		if arr := reflect.ValueOf(c); arr.Kind() == reflect.Array {
			want = [][]int16{{1, -2}, {3, -4}}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("NewTensor(%v).Value() = %v", c, got)
		}
		tensor.Close()
		tensor.Close() // twice is fine
	}
	m, err := NewTensor([][]float32{{1, 2, 3}, {4, 5, 6}})
	must(t, err)
	defer m.Close()
	if m.DataType() != Float || !reflect.DeepEqual(m.Shape(), []int64{2, 3}) || m.NumElements() != 6 {
		t.Errorf("got %v", m)
	}
	if _, err := NewTensor([][]float32{{1, 2}, {3}}); ErrorCode(err) != InvalidArgument {
		t.Errorf("ragged slice: got %v, want InvalidArgument", err)
	}
	if _, err := NewTensor([]string{"a"}); ErrorCode(err) != InvalidArgument {
		t.Errorf("strings: got %v, want InvalidArgument", err)
	}
	if _, err := NewTensorFromBytes(Float, []int64{2}, []byte{1, 2, 3}); ErrorCode(err) != InvalidArgument {
		t.Errorf("short bytes: got %v", err)
	}
}

// y = x @ w + b, computed by hand.
func TestBuildAndRun(t *testing.T) {
	g := NewGraph()
	defer g.Close()
	x := placeholder(t, g, "x", Float, MakeShape(-1, 2))
	w := constant(t, g, "w", [][]float32{{1, 2, 3}, {4, 5, 6}})
	b := constant(t, g, "b", []float32{0.5, -0.5, 1})
	mm := add(t, g, OpSpec{Type: "MatMul", Input: []Input{x, w}})
	y := add(t, g, OpSpec{Type: "BiasAdd", Name: "y", Input: []Input{mm.Output(0), b}}).Output(0)
	if s := y.Shape(); s.NumDimensions() != 2 || s.Size(0) != -1 || s.Size(1) != 3 {
		t.Errorf("inferred shape %v", s)
	}
	if y.DataType() != Float || y.Op.Name() != "y" || y.Op.Type() != "BiasAdd" || y.Op.NumInputs() != 2 {
		t.Errorf("op accessors: %v %v %v", y.DataType(), y.Op.Name(), y.Op.Type())
	}
	if g.Operation("y") != y.Op || y.Op.Input(0).Op != mm {
		t.Error("operations must compare equal by identity")
	}
	s, err := NewSession(g, &SessionOptions{InterOpThreads: 2})
	must(t, err)
	defer s.Close()
	in, _ := NewTensor([][]float32{{1, 1}, {2, -1}})
	defer in.Close()
	out, err := s.Run(map[Output]*Tensor{x: in}, []Output{y}, nil)
	must(t, err)
	defer out[0].Close()
	want := [][]float32{{5.5, 6.5, 10}, {-1.5, -1.5, 1}}
	if !reflect.DeepEqual(out[0].Value(), want) {
		t.Errorf("got %v, want %v", out[0].Value(), want)
	}
}

func TestErrorsCarryTheirCode(t *testing.T) {
	g := NewGraph()
	defer g.Close()
	a := constant(t, g, "a", [][]float32{{1, 2}})
	_, err := g.AddOperation(OpSpec{Type: "MatMul", Input: []Input{a, a}})
	if ErrorCode(err) != InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	if le, ok := err.(*Error); !ok || le.Message == "" {
		t.Errorf("want a *Error with a message, got %#v", err)
	}
	_, err = g.AddOperation(OpSpec{Type: "NoSuchOp"})
	if ErrorCode(err) != NotFound {
		t.Errorf("got %v, want NotFound", err)
	}
	x := placeholder(t, g, "x", Float, MakeShape(2))
	s, err := NewSession(g, nil)
	must(t, err)
	defer s.Close()
	wrong, _ := NewTensor([]int32{1, 2})
	defer wrong.Close()
	if _, err := s.Run(map[Output]*Tensor{x: wrong}, []Output{x}, nil); ErrorCode(err) != InvalidArgument {
		t.Errorf("wrong feed dtype: got %v", err)
	}
	if _, err := s.Run(nil, []Output{x}, nil); err == nil {
		t.Error("fetching an unfed placeholder must fail")
	}
}

func TestGraphDefRoundTripAndImportOptions(t *testing.T) {
	g := NewGraph()
	defer g.Close()
	x := placeholder(t, g, "x", Float, MakeShape(3))
	c := constant(t, g, "c", []float32{1, 2, 3})
	add(t, g, OpSpec{Type: "Mul", Name: "y", Input: []Input{x, c}})
	for _, text := range []bool{false, true} {
		def, err := g.ToGraphDef(text)
		must(t, err)
		g2 := NewGraph()
		must(t, g2.ImportWithOptions(def, ImportOptions{Text: text, Prefix: "p"}))
		if g2.Operation("p/y") == nil || len(g2.Operations()) != 3 {
			t.Fatalf("imported ops: %d", len(g2.Operations()))
		}
		// Map the imported x onto a Const of the target graph.
		feed := constant(t, g2, "feed", []float32{2, 2, 2})
		must(t, g2.ImportWithOptions(def, ImportOptions{Text: text, Prefix: "q", InputMapping: map[string]Output{"x": feed}}))
		s, err := NewSession(g2, nil)
		must(t, err)
		y, err := g2.OutputByName("q/y:0")
		must(t, err)
		out, err := s.Run(nil, []Output{y}, nil)
		must(t, err)
		if !reflect.DeepEqual(out[0].Value(), []float32{2, 4, 6}) {
			t.Errorf("got %v", out[0].Value())
		}
		out[0].Close()
		s.Close()
		g2.Close()
	}
	bad := []byte("node { name: \"a\" op: \"Frobnicate\" } node { name: \"b\" op: \"Zorch\" }")
	err := g.ImportWithOptions(bad, ImportOptions{Text: true, Prefix: "z"})
	if ErrorCode(err) != NotFound {
		t.Errorf("unknown ops: got %v", err)
	}
	if err := g.Import([]byte{0xff, 0xff, 0xff}, "garbage"); ErrorCode(err) != InvalidArgument {
		t.Errorf("garbage: got %v", err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	must(t, err)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// A TensorFlow-made GraphDef runs from Go and reproduces TensorFlow's outputs.
func TestTensorFlowGraphFromGo(t *testing.T) {
	dir := filepath.Join("..", "..", "tests", "fixtures", "tf")
	def, err := os.ReadFile(filepath.Join(dir, "mlp.pb"))
	must(t, err)
	g := NewGraph()
	defer g.Close()
	must(t, g.Import(def, ""))
	xs := readFloats(t, filepath.Join(dir, "mlp.x_0.bin"))
	want := readFloats(t, filepath.Join(dir, "mlp.probs_0.bin"))
	x, err := NewTensorOfShape(Float, []int64{5, 8})
	must(t, err)
	defer x.Close()
	for i, v := range xs {
		binary.LittleEndian.PutUint32(x.Bytes()[4*i:], math.Float32bits(v))
	}
	s, err := NewSession(g, nil)
	must(t, err)
	defer s.Close()
	xo, _ := g.OutputByName("x")
	probs, _ := g.OutputByName("probs:0")
	out, err := s.Run(map[Output]*Tensor{xo: x}, []Output{probs}, nil)
	must(t, err)
	got, err := out[0].Float32s()
	must(t, err)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Errorf("probs[%d] = %v, TensorFlow %v", i, got[i], want[i])
		}
	}
}

func TestAddGradients(t *testing.T) {
	g := NewGraph()
	defer g.Close()
	x := placeholder(t, g, "x", Float, MakeShape(3))
	sq := add(t, g, OpSpec{Type: "Mul", Input: []Input{x, x}}).Output(0)
	dx, err := g.AddGradients("", []Output{sq}, []Output{x}, nil)
	must(t, err)
	s, err := NewSession(g, nil)
	must(t, err)
	defer s.Close()
	in, _ := NewTensor([]float32{1, -2, 3})
	out, err := s.Run(map[Output]*Tensor{x: in}, dx, nil)
	must(t, err)
	if !reflect.DeepEqual(out[0].Value(), []float32{2, -4, 6}) {
		t.Errorf("d(x*x)/dx = %v", out[0].Value())
	}
}

// Close waits for runs in flight; runs after Close fail cleanly.
func TestCloseWaitsForRunsInFlight(t *testing.T) {
	g := NewGraph()
	defer g.Close()
	big := make([][]float32, 64)
	for i := range big {
		big[i] = make([]float32, 64)
		big[i][i] = 1
	}
	m := constant(t, g, "m", big)
	y := m
	for i := 0; i < 20; i++ {
		y = add(t, g, OpSpec{Type: "MatMul", Input: []Input{y, m}}).Output(0)
	}
	s, err := NewSession(g, nil)
	must(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, closed := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				out, err := s.Run(nil, []Output{y}, nil)
				mu.Lock()
				if err == nil {
					ok++
					out[0].Close()
				} else if ErrorCode(err) == FailedPrecondition {
					closed++
				} else {
					t.Errorf("unexpected error %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	must(t, s.Close())
	wg.Wait()
	if ok+closed != 160 || closed == 0 && ok == 0 {
		t.Errorf("ok %d closed %d", ok, closed)
	}
	if _, err := s.Run(nil, []Output{y}, nil); ErrorCode(err) != FailedPrecondition {
		t.Errorf("run after close: %v", err)
	}
}

func TestGraphOutlivesItsOwnerWhileASessionIsOpen(t *testing.T) {
	g := NewGraph()
	c := constant(t, g, "c", []float32{4})
	s, err := NewSession(g, nil)
	must(t, err)
	g.Close() // the session still holds the graph
	out, err := s.Run(nil, []Output{c}, nil)
	must(t, err)
	if !reflect.DeepEqual(out[0].Value(), []float32{4}) {
		t.Errorf("got %v", out[0].Value())
	}
	s.Close()
	if _, err := g.AddOperation(OpSpec{Type: "NoOp"}); ErrorCode(err) != FailedPrecondition {
		t.Errorf("closed graph: %v", err)
	}
}
