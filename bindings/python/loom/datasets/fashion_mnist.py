"""Fashion-MNIST from Debian's dataset-fashion-mnist package (gzip IDX files
under /usr/share/datasets/fashion-mnist), or from $LOOM_DATA_DIR."""
import gzip
import os
import struct

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def data_dir(path=None):
    return path or os.environ.get("LOOM_DATA_DIR") or DEFAULT_DIR


def _find(d, fname):
    for cand in (os.path.join(d, fname), os.path.join(d, fname[:-3]),
                 os.path.join(d, "fashion-mnist", fname)):
        if os.path.exists(cand):
            return cand
    raise FileNotFoundError(
        "Fashion-MNIST file %s not found in %s. Install Debian's package "
        "dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which puts the files in "
        "%s, or set LOOM_DATA_DIR to a folder holding them." % (fname, d, DEFAULT_DIR))


def read_idx(path):
    """Reads an IDX file (optionally gzip-compressed) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError("%s: truncated IDX header" % path)
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file (magic %02x%02x%02x%02x)"
                         % ((path,) + tuple(data[:4])))
    hdr = 4 + 4 * ndim
    if len(data) < hdr:
        raise ValueError("%s: truncated IDX header" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4:hdr])
    n = int(np.prod(dims)) if dims else 1
    if len(data) - hdr != n:
        raise ValueError("%s: expected %d bytes of data for shape %s, found %d"
                         % (path, n, dims, len(data) - hdr))
    return np.frombuffer(data, dtype=np.uint8, offset=hdr).reshape(dims)


def load(path=None):
    """Returns ((x_train, y_train), (x_test, y_test)): uint8 images of shape
    (N, 28, 28) and uint8 labels 0..9, like keras.datasets.fashion_mnist."""
    d = data_dir(path)
    arrays = {k: read_idx(_find(d, f)) for k, f in FILES.items()}
    return ((arrays["train_images"], arrays["train_labels"]),
            (arrays["test_images"], arrays["test_labels"]))


def load_flat(path=None, dtype=np.float32):
    """Like load(), with images flattened to (N, 784) and scaled to [0, 1]."""
    (xtr, ytr), (xte, yte) = load(path)
    scale = dtype(1.0 / 255.0)
    return ((xtr.reshape(len(xtr), -1).astype(dtype) * scale, ytr.astype(np.int64)),
            (xte.reshape(len(xte), -1).astype(dtype) * scale, yte.astype(np.int64)))
