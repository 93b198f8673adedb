// Package fmnist reads the Fashion-MNIST IDX files (gzip or plain) that
// Debian's dataset-fashion-mnist installs under /usr/share/datasets/fashion-mnist
// ($LOOM_DATA_DIR overrides the directory).
package fmnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"loom.dev/loom"
)

// Set is one split: Count images of 28x28 pixels scaled to [0, 1], row-major,
// and their class labels in [0, 10).
type Set struct {
	Count  int
	Images []float32
	Labels []int64
}

// Pixels per image.
const Pixels = 28 * 28

// DefaultDir returns $LOOM_DATA_DIR or Debian's install location.
func DefaultDir() string {
	if d := os.Getenv("LOOM_DATA_DIR"); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}

func open(dir, name string) (io.ReadCloser, error) {
	for _, n := range []string{name + ".gz", name} {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		if filepath.Ext(n) != ".gz" {
			return f, nil
		}
		z, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{z, f}, nil
	}
	return nil, fmt.Errorf("%s not found in %s (apt-get install dataset-fashion-mnist, or set LOOM_DATA_DIR)", name, dir)
}

// Load reads split "train" or "t10k" from dir, keeping at most limit
// examples (0: all).
func Load(dir, split string, limit int) (*Set, error) {
	img, err := open(dir, split+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	defer img.Close()
	lab, err := open(dir, split+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	defer lab.Close()
	var ih [4]uint32
	var lh [2]uint32
	if err := binary.Read(img, binary.BigEndian, &ih); err != nil || ih[0] != 2051 || ih[2]*ih[3] != Pixels {
		return nil, fmt.Errorf("%s images: bad IDX header %v (%v)", split, ih, err)
	}
	if err := binary.Read(lab, binary.BigEndian, &lh); err != nil || lh[0] != 2049 || lh[1] != ih[1] {
		return nil, fmt.Errorf("%s labels: bad IDX header %v (%v)", split, lh, err)
	}
	n := int(ih[1])
	if limit > 0 && limit < n {
		n = limit
	}
	raw := make([]byte, n*Pixels)
	if _, err := io.ReadFull(img, raw); err != nil {
		return nil, fmt.Errorf("%s images: %w", split, err)
	}
	labels := make([]byte, n)
	if _, err := io.ReadFull(lab, labels); err != nil {
		return nil, fmt.Errorf("%s labels: %w", split, err)
	}
	s := &Set{Count: n, Images: make([]float32, len(raw)), Labels: make([]int64, n)}
	for i, b := range raw {
		s.Images[i] = float32(b) / 255
	}
	for i, b := range labels {
		s.Labels[i] = int64(b)
	}
	return s, nil
}

// Batch copies examples [start, start+n) (wrapping around) into an image
// tensor [n, 784] and a label tensor [n] of labelType (Int64 or Int32).
func (s *Set) Batch(start, n int, labelType loom.DataType) (*loom.Tensor, *loom.Tensor, error) {
	x, err := loom.NewTensorOfShape(loom.Float, []int64{int64(n), Pixels})
	if err != nil {
		return nil, nil, err
	}
	y, err := loom.NewTensorOfShape(labelType, []int64{int64(n)})
	if err != nil {
		x.Close()
		return nil, nil, err
	}
	xb, yb := x.Bytes(), y.Bytes()
	for i := 0; i < n; i++ {
		k := (start + i) % s.Count
		for p, v := range s.Images[k*Pixels : (k+1)*Pixels] {
			binary.LittleEndian.PutUint32(xb[4*(i*Pixels+p):], math.Float32bits(v))
		}
		if labelType == loom.Int32 {
			binary.LittleEndian.PutUint32(yb[4*i:], uint32(s.Labels[k]))
		} else {
			binary.LittleEndian.PutUint64(yb[8*i:], uint64(s.Labels[k]))
		}
	}
	return x, y, nil
}

// Accuracy runs logits = f(x) over the whole set in batches and returns the
// fraction of examples whose largest logit is the label.
func (s *Set) Accuracy(sess *loom.Session, x, logits loom.Output, batch int) (float64, error) {
	correct := 0
	for start := 0; start < s.Count; start += batch {
		n := batch
		if start+n > s.Count {
			n = s.Count - start
		}
		xt, yt, err := s.Batch(start, n, loom.Int64)
		if err != nil {
			return 0, err
		}
		yt.Close()
		out, err := sess.Run(map[loom.Output]*loom.Tensor{x: xt}, []loom.Output{logits}, nil)
		xt.Close()
		if err != nil {
			return 0, err
		}
		scores, err := out[0].Float32s()
		out[0].Close()
		if err != nil {
			return 0, err
		}
		classes := len(scores) / n
		for i := 0; i < n; i++ {
			best := 0
			for c := 1; c < classes; c++ {
				if scores[i*classes+c] > scores[i*classes+best] {
					best = c
				}
			}
			if int64(best) == s.Labels[start+i] {
				correct++
			}
		}
	}
	return float64(correct) / float64(s.Count), nil
}
