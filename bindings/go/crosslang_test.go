package loom

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The cross-language contract: Python trains a model and saves it
// (loom.saved_model); Go loads it, predicts the same logits bit for bit on
// the CPU, and keeps training it. Skipped where the Python binding, its
// extension or the Fashion-MNIST data is missing.
func TestPythonTrainsGoPredicts(t *testing.T) {
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "python3"
	}
	if _, err := exec.LookPath(python); err != nil {
		t.Skip("no python3: skipping the cross-language test")
	}
	libDir := os.Getenv("LOOM_LIBRARY_DIR")
	if libDir == "" {
		t.Skip("LOOM_LIBRARY_DIR (the build's lib directory) is not set: skipping the cross-language test")
	}
	out := t.TempDir()
	pyPath, _ := filepath.Abs(filepath.Join("..", "python"))
	cmd := exec.Command(python, filepath.Join("testdata", "crosslang_train.py"), out)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pyPath+string(os.PathListSeparator)+os.Getenv("PYTHONPATH"))
	log, err := cmd.CombinedOutput()
	if err != nil {
		text := string(log)
		for _, missing := range []string{"loom._C", "No module named", "dataset-fashion-mnist", "FileNotFoundError"} {
			if strings.Contains(text, missing) {
				t.Skipf("the Python side cannot run here (%s): %s", missing, lastLine(text))
			}
		}
		t.Fatalf("python training failed: %v\n%s", err, text)
	}

	m, err := LoadModel(filepath.Join(out, "model"), &SessionOptions{InterOpThreads: 1, IntraOpThreads: 1})
	must(t, err)
	defer m.Close()
	serve := m.Signatures["serving_default"]
	x, logits := serve.Inputs["x"], serve.Outputs["logits"]
	if x.Op == nil || logits.Op == nil {
		t.Fatalf("signatures: %+v", m.Signatures)
	}
	images, err := os.ReadFile(filepath.Join(out, "images.bin"))
	must(t, err)
	want, err := os.ReadFile(filepath.Join(out, "logits.bin"))
	must(t, err)
	xs, err := NewTensorFromBytes(Float, []int64{1000, 784}, images)
	must(t, err)
	defer xs.Close()
	res, err := m.Session.Run(map[Output]*Tensor{x: xs}, []Output{logits}, nil)
	must(t, err)
	if !bytes.Equal(res[0].Bytes(), want) {
		t.Fatal("Go's logits differ from Python's")
	}
	res[0].Close()

	// Keep training from Go with the train signature.
	train := m.Signatures["train"]
	labels, err := os.ReadFile(filepath.Join(out, "labels.bin"))
	must(t, err)
	ys, err := NewTensorFromBytes(Int64, []int64{1000}, labels)
	must(t, err)
	defer ys.Close()
	var first, last float32
	for step := 0; step < 20; step++ {
		r, err := m.Session.Run(map[Output]*Tensor{train.Inputs["x"]: xs, train.Inputs["y"]: ys},
			[]Output{train.Outputs["loss"]}, train.Targets)
		must(t, err)
		loss := r[0].Value().(float32)
		r[0].Close()
		if step == 0 {
			first = loss
		}
		last = loss
	}
	if !(last < first) {
		t.Errorf("training from Go did not lower the loss: %v -> %v", first, last)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
