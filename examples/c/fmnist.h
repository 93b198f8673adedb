/* fmnist.h — a small reader for the (Fashion-)MNIST IDX files, gzip or plain.
 *
 * The files come from Debian's dataset-fashion-mnist package, which installs
 * them under /usr/share/datasets/fashion-mnist; set LOOM_DATA_DIR to read
 * them from elsewhere:
 *   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
 *   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
 */
#ifndef LOOM_EXAMPLES_FMNIST_H_
#define LOOM_EXAMPLES_FMNIST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fmnist_set {
  int count;        /* number of examples */
  int rows, cols;   /* 28 x 28 */
  float* images;    /* count * rows * cols pixels scaled to [0, 1], row-major */
  int32_t* labels;  /* count class ids in [0, 10) */
} fmnist_set;

/* The directory the files are read from: $LOOM_DATA_DIR if set, else
 * /usr/share/datasets/fashion-mnist. Static storage or the environment's. */
const char* fmnist_default_dir(void);

/* Loads split "train" or "t10k" from dir (NULL: fmnist_default_dir()),
 * keeping the first `limit` examples (0: all). Returns 0 on success; on
 * failure returns -1 and writes a message to err (naming the file, and the
 * Debian package when a file is missing). */
int fmnist_load(const char* dir, const char* split, int limit, fmnist_set* out, char* err,
                size_t err_len);

void fmnist_free(fmnist_set* set);

#ifdef __cplusplus
}
#endif

#endif /* LOOM_EXAMPLES_FMNIST_H_ */
