// Command train_mlp builds a 784-128-10 perceptron with the generated op
// functions, trains it on Fashion-MNIST with gradient descent and saves it as
// a model directory that ../evaluate_and_train (or any Loom binding) loads.
//
//	go run ./train_mlp -out /tmp/fmnist_model [-steps 1000]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"

	"loom.dev/examples/fmnist"
	"loom.dev/loom"
	"loom.dev/loom/op"
)

// glorot returns a rows x cols matrix of Glorot-uniform values.
func glorot(r *rand.Rand, rows, cols int) [][]float32 {
	limit := math.Sqrt(6 / float64(rows+cols))
	m := make([][]float32, rows)
	for i := range m {
		m[i] = make([]float32, cols)
		for j := range m[i] {
			m[i][j] = float32((2*r.Float64() - 1) * limit)
		}
	}
	return m
}

func main() {
	out := flag.String("out", "fmnist_model", "model directory to write")
	dataDir := flag.String("data", fmnist.DefaultDir(), "Fashion-MNIST directory")
	steps := flag.Int("steps", 1000, "training steps")
	batch := flag.Int("batch", 100, "batch size")
	lr := flag.Float64("lr", 0.1, "learning rate")
	threads := flag.Int("threads", 0, "inter- and intra-op threads (0: choose)")
	flag.Parse()

	r := rand.New(rand.NewSource(1))
	s := op.NewScope()
	x := op.Placeholder(s, loom.Float, op.PlaceholderShape(loom.MakeShape(-1, fmnist.Pixels)))
	y := op.Placeholder(s.SubScope("y"), loom.Int64, op.PlaceholderShape(loom.MakeShape(-1)))
	var vars []loom.Output
	var inits []*loom.Operation
	variable := func(name string, init interface{}, shape ...int64) loom.Output {
		v := op.VariableV2(s.SubScope(name), loom.MakeShape(shape...), loom.Float)
		inits = append(inits, op.Assign(s, v, op.Const(s, init)).Op)
		vars = append(vars, v)
		return v
	}
	w1 := variable("hidden/w", glorot(r, fmnist.Pixels, 128), fmnist.Pixels, 128)
	b1 := variable("hidden/b", make([]float32, 128), 128)
	w2 := variable("logits/w", glorot(r, 128, 10), 128, 10)
	b2 := variable("logits/b", make([]float32, 10), 10)
	h := op.Relu(s, op.BiasAdd(s, op.MatMul(s, x, w1), b1))
	logits := op.BiasAdd(s.SubScope("logits"), op.MatMul(s, h, w2), b2)
	perExample, _ := op.SparseSoftmaxCrossEntropyWithLogits(s, logits, y)
	loss := op.Mean(s.SubScope("loss"), perExample, op.Const(s, []int32{0}))
	init := op.NoOp(s.SubScope("init").WithControlDependencies(inits...))
	g, err := s.Finalize()
	if err != nil {
		log.Fatal(err)
	}
	grads, err := g.AddGradients("", []loom.Output{loss}, vars, nil)
	if err != nil {
		log.Fatal(err)
	}
	rate := op.Const(s, float32(*lr))
	// Every gradient is computed before any variable changes (TensorFlow's
	// GATE_GRAPH): the updates are in place, and the backward pass still
	// reads the weights.
	var gradOps []*loom.Operation
	for _, d := range grads {
		gradOps = append(gradOps, d.Op)
	}
	gated := s.WithControlDependencies(gradOps...)
	var updates []*loom.Operation
	for i, v := range vars {
		updates = append(updates, op.ApplyGradientDescent(gated, v, rate, grads[i]).Op)
	}
	train := op.NoOp(s.SubScope("train").WithControlDependencies(updates...))
	if err := s.Err(); err != nil {
		log.Fatal(err)
	}

	sess, err := loom.NewSession(g, &loom.SessionOptions{InterOpThreads: *threads, IntraOpThreads: *threads})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(nil, nil, []*loom.Operation{init}); err != nil {
		log.Fatal(err)
	}
	data, err := fmnist.Load(*dataDir, "train", 0)
	if err != nil {
		log.Fatal(err)
	}
	for step := 0; step < *steps; step++ {
		xb, yb, err := data.Batch(step**batch, *batch, loom.Int64)
		if err != nil {
			log.Fatal(err)
		}
		res, err := sess.Run(map[loom.Output]*loom.Tensor{x: xb, y: yb}, []loom.Output{loss}, []*loom.Operation{train})
		xb.Close()
		yb.Close()
		if err != nil {
			log.Fatal(err)
		}
		if step%20 == 0 || step == *steps-1 {
			fmt.Printf("step %4d  loss %.4f\n", step, res[0].Value())
		}
		res[0].Close()
	}
	test, err := fmnist.Load(*dataDir, "t10k", 0)
	if err != nil {
		log.Fatal(err)
	}
	acc, err := test.Accuracy(sess, x, logits, 1000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy %.4f\n", acc)
	err = loom.SaveModel(sess, *out, map[string]loom.Signature{
		"serving_default": {Inputs: map[string]loom.Output{"x": x}, Outputs: map[string]loom.Output{"logits": logits}},
		"train": {Inputs: map[string]loom.Output{"x": x, "y": y}, Outputs: map[string]loom.Output{"loss": loss},
			Targets: []*loom.Operation{train}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("saved to", *out)
}
