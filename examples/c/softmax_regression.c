/* softmax_regression.c — multinomial logistic regression on Fashion-MNIST:
 * logits = x W + b, trained with Adam on the softmax cross-entropy, in plain C
 * over loom.h. Prints the loss as it trains and the final test accuracy.
 *
 *   softmax_regression [--epochs N] [--threads N] [--limit N]   (default 10 epochs)
 *
 * Data: /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),
 * or $LOOM_DATA_DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmnist.h"
#include "loom/loom.h"
#include "nn.h"

enum { kFeatures = 784, kClasses = 10, kBatch = 100 };

int main(int argc, char** argv) {
  int epochs = 10, threads = 0, limit = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--epochs N] [--threads N] [--limit N]\n", argv[0]);
      return 2;
    }
  }

  fmnist_set train, test;
  char err[1024];
  if (fmnist_load(NULL, "train", limit, &train, err, sizeof err) ||
      fmnist_load(NULL, "t10k", 0, &test, err, sizeof err)) {
    fprintf(stderr, "error: %s\n", err);
    return 2;
  }
  printf("Fashion-MNIST from %s: %d training, %d test images\n", fmnist_default_dir(),
         train.count, test.count);

  loom_graph* g = loom_graph_new();
  nn_ctx c;
  nn_init(&c, g, 42);
  const int64_t x_dims[2] = {-1, kFeatures}, y_dims[1] = {-1};
  loom_output x = nn_placeholder(&c, LOOM_DTYPE_FLOAT, x_dims, 2, "images");
  loom_output y = nn_placeholder(&c, LOOM_DTYPE_INT32, y_dims, 1, "labels");
  loom_output logits = nn_dense(&c, "softmax", x, kFeatures, kClasses, 0, /*zero_weights=*/1);
  loom_output xent = nn_op2(&c, "SparseSoftmaxCrossEntropyWithLogits", logits, y);
  loom_output loss = nn_op2(&c, "Mean", xent, nn_ints(&c, (const int64_t[]){0}, 1));
  loom_op* train_op = nn_adam(&c, loss, 1e-3f);
  loom_output accuracy = nn_accuracy(&c, logits, y);
  loom_op* init = nn_init_op(&c);

  loom_session_options* opts = loom_session_options_new();
  loom_session_options_set_intra_op_threads(opts, threads);
  loom_session* sess = NULL;
  nn_check(loom_session_new(g, opts, &sess), "session");
  loom_session_options_free(opts);
  nn_check(loom_session_run(sess, NULL, NULL, 0, NULL, 0, &init, 1, NULL), "initialising");
  loom_output feeds[2] = {x, y};
  loom_callable* step = NULL;
  nn_check(loom_session_make_callable(sess, feeds, 2, &loss, 1, &train_op, 1, &step), "callable");

  uint64_t shuffle = 7;
  double start = nn_seconds();
  for (int e = 1; e <= epochs; ++e) {
    double mean_loss = nn_train_epoch(step, train.images, train.labels, train.count, kFeatures,
                                      kBatch, &shuffle, 100, e);
    printf("epoch %d: mean loss %.4f (%.1f s)\n", e, mean_loss, nn_seconds() - start);
  }
  double acc = nn_evaluate(sess, x, y, accuracy, test.images, test.labels, test.count, kFeatures);
  printf("final test accuracy: %.4f after %d epochs in %.1f s\n", acc, epochs,
         nn_seconds() - start);

  loom_callable_free(step);
  loom_session_free(sess);
  loom_graph_free(g);
  fmnist_free(&train);
  fmnist_free(&test);
  return 0;
}
