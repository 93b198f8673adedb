"""GraphDef export and import; checkpoints through Saver."""
import os

import numpy as np
import pytest

import loom as tf


def test_graphdef_round_trip_runs_the_same():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.constant([[1.0], [2.0]], name="w")
    tf.nn.relu(tf.matmul(x, w), name="y")
    gd = tf.get_default_graph().as_graph_def()
    assert isinstance(gd, tf.GraphDef) and len(gd.SerializeToString()) > 0
    text = str(gd)
    assert "MatMul" in text and '"y"' in text
    g2 = tf.Graph()
    with g2.as_default():
        x2, y2 = tf.import_graph_def(gd, return_elements=["x:0", "y:0"], name="imported")
        assert y2.op.name == "imported/y" and y2.op.type == "Relu"
        with tf.Session() as s:
            np.testing.assert_allclose(s.run(y2, {x2: [[1.0, 1.0], [-3.0, 0.0]]}),
                                       [[3.0], [0.0]])


def test_import_with_input_map_and_text():
    a = tf.placeholder(tf.float32, [], name="a")
    tf.multiply(a, 3.0, name="out")
    text = tf.get_default_graph().as_graph_def_text()
    g2 = tf.Graph()
    with g2.as_default():
        c = tf.constant(5.0)
        (out,) = tf.import_graph_def(text, input_map={"a:0": c}, return_elements=["out:0"])
        assert out.op.name == "import/out"
        with tf.Session() as s:
            assert s.run(out) == 15.0


def test_import_bad_data_raises():
    with pytest.raises(tf.errors.OpError):
        tf.import_graph_def(b"\xff\xff\xff not a graphdef")


def test_write_graph(tmp_path):
    tf.constant(1.0, name="one")
    p = tf.train.write_graph(tf.get_default_graph(), str(tmp_path), "g.pbtxt")
    assert "one" in open(p).read()
    p = tf.train.write_graph(tf.get_default_graph().as_graph_def(), str(tmp_path), "g.pb",
                             as_text=False)
    assert os.path.getsize(p) > 0


def test_saver_save_and_restore(tmp_path):
    v = tf.Variable([1.0, 2.0], name="v")
    w = tf.get_variable("w", [2, 2], initializer=tf.ones_initializer())
    change = tf.group(v.assign([9.0, 9.0]), w.assign(tf.zeros([2, 2])))
    saver = tf.train.Saver()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        path = saver.save(s, prefix, global_step=3)
        assert path == prefix + "-3"
        assert tf.train.latest_checkpoint(str(tmp_path)) == path
        s.run(change)
        saver.restore(s, path)
        np.testing.assert_array_equal(s.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(s.run(w), np.ones((2, 2)))
    names = dict(tf.train.list_variables(path))
    assert names["v"] == [2] and names["w"] == [2, 2]
    np.testing.assert_array_equal(tf.train.load_variable(path, "v"), [1.0, 2.0])


def test_saver_restore_missing_file(tmp_path):
    v = tf.Variable(1.0)
    saver = tf.train.Saver([v])
    with tf.Session() as s:
        with pytest.raises(tf.errors.NotFoundError):
            saver.restore(s, str(tmp_path / "nothing"))
