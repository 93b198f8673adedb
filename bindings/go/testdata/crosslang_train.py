"""Trains a small Fashion-MNIST classifier with the Python binding, saves it
as a model directory (loom.saved_model) and records its predictions, for
bindings/go's TestPythonTrainsGoPredicts.

    python crosslang_train.py OUT_DIR

writes OUT_DIR/model/ (the model), OUT_DIR/images.bin (1000 test images,
float32 [1000, 784]), OUT_DIR/labels.bin (their int64 labels) and
OUT_DIR/logits.bin (the model's float32 logits for them, [1000, 10]). Single-threaded, so Go can reproduce the logits bit for bit.
"""
import os
import sys

import numpy as np

import loom as tf
import loom.saved_model
from loom.datasets import fashion_mnist


def main(out):
    (xtr, ytr), (xte, yte) = fashion_mnist.load_flat()
    xtr, ytr, xte, yte = xtr[:5000], ytr[:5000], np.ascontiguousarray(xte[:1000]), yte[:1000]
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        hidden = tf.layers.dense(x, 64, activation=tf.nn.relu, name="hidden")
        logits = tf.layers.dense(hidden, 10, name="logits")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_op = tf.train.GradientDescentOptimizer(0.2).minimize(loss)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        for step in range(200):
            i = (step * 100) % len(xtr)
            sess.run(train_op, {x: xtr[i:i + 100], y: ytr[i:i + 100]})
        predictions = sess.run(logits, {x: xte})
        loom.saved_model.save(sess, os.path.join(out, "model"), inputs={"x": x}, outputs={"logits": logits},
                              signatures={"train": {"inputs": {"x": x, "y": y}, "outputs": {"loss": loss},
                                                    "targets": [train_op]}})
    xte.astype("<f4").tofile(os.path.join(out, "images.bin"))
    np.ascontiguousarray(predictions, dtype="<f4").tofile(os.path.join(out, "logits.bin"))
    yte.astype("<i8").tofile(os.path.join(out, "labels.bin"))
    # The model loads back in Python too, with the same predictions.
    with loom.saved_model.load(os.path.join(out, "model"), config=config) as m:
        sig = m.signatures["serving_default"]
        again = m.session.run(sig.outputs["logits"], {sig.inputs["x"]: xte})
        assert np.array_equal(again, predictions), "Python reload differs"
    print("saved the model; reloaded in Python, its predictions match")


if __name__ == "__main__":
    main(sys.argv[1])
