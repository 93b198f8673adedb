package op

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"loom.dev/loom"
)

func TestGeneratedOpsBuildAndRun(t *testing.T) {
	s := NewScope()
	x := Placeholder(s, loom.Float, PlaceholderShape(loom.MakeShape(2, 2)))
	w := Const(s, [][]float32{{1, 2}, {3, 4}})
	y := Relu(s, MatMul(s, x, w, MatMulTransposeB(true)))
	parts := Split(s, Const(s, int32(1)), y, 2)
	sum := AddN(s.SubScope("total"), parts)
	g, err := s.Finalize()
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || sum.Op.Name() != "total/AddN" {
		t.Fatalf("parts %d, name %q", len(parts), sum.Op.Name())
	}
	sess, err := loom.NewSession(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	in, _ := loom.NewTensor([][]float32{{1, -1}, {2, 1}})
	out, err := sess.Run(map[loom.Output]*loom.Tensor{x: in}, []loom.Output{y, sum}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// x @ w^T = [[1-2, 3-4], [2+2, 6+4]] = [[-1,-1],[4,10]]; relu; row sums.
	if !reflect.DeepEqual(out[0].Value(), [][]float32{{0, 0}, {4, 10}}) ||
		!reflect.DeepEqual(out[1].Value(), [][]float32{{0}, {14}}) {
		t.Errorf("got %v and %v", out[0].Value(), out[1].Value())
	}
}

func TestScopeKeepsTheFirstError(t *testing.T) {
	s := NewScope()
	a := Const(s, [][]float32{{1, 2, 3}})
	bad := MatMul(s, a, a) // [1,3] x [1,3]: incompatible
	if bad.Op != nil {
		t.Fatal("a failed op must give an empty Output")
	}
	Relu(s, a) // ignored after the error
	if _, err := s.Finalize(); loom.ErrorCode(err) != loom.InvalidArgument {
		t.Errorf("got %v", err)
	}
}

// A softmax classifier trained with gradient descent, saved as a model
// directory, loaded back, giving the same predictions bit for bit, and
// trained further from the loaded model exactly as the original.
type classifier struct {
	g                  *loom.Graph
	x, y, logits, loss loom.Output
	train, init        *loom.Operation
}

func buildClassifier(t *testing.T) classifier {
	s := NewScope()
	var c classifier
	c.x = Placeholder(s, loom.Float, PlaceholderShape(loom.MakeShape(-1, 4)))
	c.y = Placeholder(s, loom.Int32, PlaceholderShape(loom.MakeShape(-1)))
	w := VariableV2(s.SubScope("w"), loom.MakeShape(4, 3), loom.Float)
	b := VariableV2(s.SubScope("b"), loom.MakeShape(3), loom.Float)
	wInit := Assign(s, w, Const(s, [][]float32{{0.1, -0.2, 0.3}, {0.0, 0.1, -0.1}, {0.2, 0.2, 0.0}, {-0.3, 0.1, 0.1}}))
	bInit := Assign(s, b, Const(s, []float32{0, 0, 0}))
	c.init = NoOp(s.WithControlDependencies(wInit.Op, bInit.Op))
	c.logits = BiasAdd(s, MatMul(s, c.x, w), b)
	perExample, _ := SparseSoftmaxCrossEntropyWithLogits(s, c.logits, c.y)
	c.loss = Mean(s, perExample, Const(s, []int32{0}))
	g, err := s.Finalize()
	if err != nil {
		t.Fatal(err)
	}
	grads, err := g.AddGradients("", []loom.Output{c.loss}, []loom.Output{w, b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lr := Const(s, float32(0.5))
	gated := s.WithControlDependencies(grads[0].Op, grads[1].Op) // all gradients before any update
	dw := ApplyGradientDescent(gated, w, lr, grads[0])
	db := ApplyGradientDescent(gated, b, lr, grads[1])
	c.train = NoOp(s.SubScope("train").WithControlDependencies(dw.Op, db.Op))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	c.g = g
	return c
}

func data() (*loom.Tensor, *loom.Tensor) {
	x, _ := loom.NewTensor([][]float32{{1, 0, 0, 1}, {0, 1, 1, 0}, {1, 1, 0, 0}, {0, 0, 1, 1}, {1, 0, 1, 0}, {0, 1, 0, 1}})
	y, _ := loom.NewTensor([]int32{0, 1, 2, 0, 1, 2})
	return x, y
}

func step(t *testing.T, sess *loom.Session, x, y loom.Output, train *loom.Operation, loss loom.Output) float32 {
	xv, yv := data()
	defer xv.Close()
	defer yv.Close()
	out, err := sess.Run(map[loom.Output]*loom.Tensor{x: xv, y: yv}, []loom.Output{loss}, []*loom.Operation{train})
	if err != nil {
		t.Fatal(err)
	}
	defer out[0].Close()
	return out[0].Value().(float32)
}

func predict(t *testing.T, sess *loom.Session, x, logits loom.Output) []byte {
	xv, _ := data()
	defer xv.Close()
	out, err := sess.Run(map[loom.Output]*loom.Tensor{x: xv}, []loom.Output{logits}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer out[0].Close()
	return append([]byte(nil), out[0].Bytes()...)
}

func TestTrainSaveLoadAndKeepTraining(t *testing.T) {
	c := buildClassifier(t)
	defer c.g.Close()
	opts := &loom.SessionOptions{InterOpThreads: 1, IntraOpThreads: 1}
	sess, err := loom.NewSession(c.g, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(nil, nil, []*loom.Operation{c.init}); err != nil {
		t.Fatal(err)
	}
	first := step(t, sess, c.x, c.y, c.train, c.loss)
	var last float32
	for i := 0; i < 20; i++ {
		last = step(t, sess, c.x, c.y, c.train, c.loss)
	}
	if !(last < first) {
		t.Fatalf("loss did not decrease: %v -> %v", first, last)
	}

	dir := filepath.Join(t.TempDir(), "model")
	sigs := map[string]loom.Signature{
		"serving_default": {Inputs: map[string]loom.Output{"x": c.x}, Outputs: map[string]loom.Output{"logits": c.logits}},
		"train": {Inputs: map[string]loom.Output{"x": c.x, "y": c.y}, Outputs: map[string]loom.Output{"loss": c.loss},
			Targets: []*loom.Operation{c.train}},
	}
	if err := loom.SaveModel(sess, dir, sigs); err != nil {
		t.Fatal(err)
	}
	m, err := loom.LoadModel(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	serve, train := m.Signatures["serving_default"], m.Signatures["train"]
	if len(m.Signatures) != 2 || len(train.Targets) != 1 || train.Targets[0].Name() != c.train.Name() {
		t.Fatalf("signatures: %+v", m.Signatures)
	}
	if !bytes.Equal(predict(t, m.Session, serve.Inputs["x"], serve.Outputs["logits"]), predict(t, sess, c.x, c.logits)) {
		t.Error("the loaded model's predictions differ from the original's")
	}
	// Keep training both: they stay bit-identical.
	for i := 0; i < 5; i++ {
		a := step(t, sess, c.x, c.y, c.train, c.loss)
		b := step(t, m.Session, train.Inputs["x"], train.Inputs["y"], train.Targets[0], train.Outputs["loss"])
		if a != b {
			t.Fatalf("step %d: loss %v (original) vs %v (loaded)", i, a, b)
		}
	}
	if !bytes.Equal(predict(t, m.Session, serve.Inputs["x"], serve.Outputs["logits"]), predict(t, sess, c.x, c.logits)) {
		t.Error("after more training, predictions differ")
	}

	// Checkpoints: list, save/restore, damage detection.
	ckpt := filepath.Join(t.TempDir(), "vars.ckpt")
	if err := m.Session.Save(ckpt); err != nil {
		t.Fatal(err)
	}
	ck, err := loom.OpenCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	vars := ck.Variables()
	if len(vars) != 2 || vars[0].Name != "b/VariableV2" || !reflect.DeepEqual(vars[1].Shape, []int64{4, 3}) {
		t.Errorf("variables %+v", vars)
	}
	ck.Close()
	raw, _ := os.ReadFile(ckpt)
	raw[len(raw)-1] ^= 1
	os.WriteFile(ckpt, raw, 0o644)
	err = m.Session.Restore(ckpt)
	if loom.ErrorCode(err) != loom.DataLoss || !bytes.Contains([]byte(err.Error()), []byte("w/VariableV2")) {
		t.Errorf("damaged checkpoint: %v", err)
	}
}
