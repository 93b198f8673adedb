// Command evaluate_and_train loads a Fashion-MNIST model directory -- the one
// the Python main job saves with loom.saved_model.save, or the one
// ../train_mlp writes -- measures its test accuracy, trains it for a few more
// steps from Go, and measures again.
//
// The model directory's signatures follow this convention:
//
//	serving_default  inputs {x: images [N,784] float}  outputs {logits: [N,10]}
//	train            inputs {x, y: labels [N] int64 or int32}  outputs {loss}
//	                 targets [the training op]
//
// Usage:
//
//	go run ./evaluate_and_train -model /tmp/fmnist_model [-steps 200] [-save dir]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"sort"

	"loom.dev/examples/fmnist"
	"loom.dev/loom"
)

// pick returns m[key], or the only entry of m.
func pick(m map[string]loom.Output, key, what string) loom.Output {
	if o, ok := m[key]; ok {
		return o
	}
	if len(m) == 1 {
		for _, o := range m {
			return o
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	log.Fatalf("the model's %s has no %q (it has %v)", what, key, keys)
	return loom.Output{}
}

func main() {
	modelDir := flag.String("model", os.Getenv("LOOM_MODEL_DIR"), "model directory (default $LOOM_MODEL_DIR)")
	dataDir := flag.String("data", fmnist.DefaultDir(), "Fashion-MNIST directory")
	steps := flag.Int("steps", 200, "training steps to run from Go")
	batch := flag.Int("batch", 100, "training batch size")
	save := flag.String("save", "", "directory to save the further-trained model to (optional)")
	flag.Parse()
	if *modelDir == "" {
		log.Fatal("give -model DIR: a model saved by the Python main job (loom.saved_model.save) or by ../train_mlp")
	}

	m, err := loom.LoadModel(*modelDir, nil)
	if err != nil {
		log.Fatalf("loading %s: %v", *modelDir, err)
	}
	defer m.Close()
	serve, ok := m.Signatures["serving_default"]
	if !ok {
		log.Fatalf("%s has no serving_default signature", *modelDir)
	}
	x, logits := pick(serve.Inputs, "x", "serving_default inputs"), pick(serve.Outputs, "logits", "serving_default outputs")

	test, err := fmnist.Load(*dataDir, "t10k", 0)
	if err != nil {
		log.Fatal(err)
	}
	acc, err := test.Accuracy(m.Session, x, logits, 1000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loaded %s: test accuracy %.4f on %d images\n", *modelDir, acc, test.Count)

	train, ok := m.Signatures["train"]
	if !ok || len(train.Targets) == 0 || *steps == 0 {
		fmt.Println("no training from Go (the model has no train signature, or -steps 0)")
		return
	}
	tx, ty := pick(train.Inputs, "x", "train inputs"), pick(train.Inputs, "y", "train inputs")
	loss := pick(train.Outputs, "loss", "train outputs")
	data, err := fmnist.Load(*dataDir, "train", 0)
	if err != nil {
		log.Fatal(err)
	}
	for step := 0; step < *steps; step++ {
		xb, yb, err := data.Batch(step**batch, *batch, ty.DataType())
		if err != nil {
			log.Fatal(err)
		}
		out, err := m.Session.Run(map[loom.Output]*loom.Tensor{tx: xb, ty: yb}, []loom.Output{loss}, train.Targets)
		xb.Close()
		yb.Close()
		if err != nil {
			log.Fatalf("training step %d: %v", step, err)
		}
		if step%50 == 0 || step == *steps-1 {
			fmt.Printf("step %4d  loss %.4f\n", step, out[0].Value())
		}
		out[0].Close()
	}
	acc2, err := test.Accuracy(m.Session, x, logits, 1000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("after %d more steps from Go: test accuracy %.4f (was %.4f)\n", *steps, acc2, acc)
	if *save != "" {
		if err := loom.SaveModel(m.Session, *save, m.Signatures); err != nil {
			log.Fatal(err)
		}
		fmt.Println("saved to", *save)
	}
}
