/* mlp.c — a 784-256-128-10 ReLU network trained on Fashion-MNIST with Adam,
 * in plain C over loom.h. Prints the loss as it trains and the test accuracy
 * after each epoch.
 *
 *   mlp [--epochs N] [--threads N] [--limit N] [--bench]
 *
 *   --epochs N   passes over the 60,000 training images (default 10)
 *   --threads N  intra-op threads (default 0: one per core)
 *   --limit N    train on the first N images only
 *   --bench      measure training throughput (examples/second) and exit
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
  int epochs = 10, threads = 0, limit = 0, bench = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--bench")) bench = 1;
    else {
      fprintf(stderr, "usage: %s [--epochs N] [--threads N] [--limit N] [--bench]\n", argv[0]);
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

  /* The model: logits = dense(relu(dense(relu(dense(x))))). */
  loom_graph* g = loom_graph_new();
  nn_ctx c;
  nn_init(&c, g, 42);
  const int64_t x_dims[2] = {-1, kFeatures}, y_dims[1] = {-1};
  loom_output x = nn_placeholder(&c, LOOM_DTYPE_FLOAT, x_dims, 2, "images");
  loom_output y = nn_placeholder(&c, LOOM_DTYPE_INT32, y_dims, 1, "labels");
  loom_output h1 = nn_dense(&c, "hidden1", x, kFeatures, 256, 1, 0);
  loom_output h2 = nn_dense(&c, "hidden2", h1, 256, 128, 1, 0);
  loom_output logits = nn_dense(&c, "logits", h2, 128, kClasses, 0, 0);
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
  if (bench) {
    /* Warm up on 2,000 images, then time whole epochs over the first 10,000. */
    int n = train.count < 10000 ? train.count : 10000;
    nn_train_epoch(step, train.images, train.labels, n < 2000 ? n : 2000, kFeatures, kBatch,
                   &shuffle, 0, 0);
    double t0 = nn_seconds();
    int reps = 3;
    for (int r = 0; r < reps; ++r)
      nn_train_epoch(step, train.images, train.labels, n, kFeatures, kBatch, &shuffle, 0, 0);
    double secs = nn_seconds() - t0;
    double examples = (double)reps * (n / kBatch) * kBatch;
    printf("mlp_train_throughput: %.0f examples/second (batch %d, intra-op threads %d "
           "(0 = one per core), %.2f s for %.0f examples)\n",
           examples / secs, kBatch, threads, secs, examples);
  } else {
    double start = nn_seconds();
    for (int e = 1; e <= epochs; ++e) {
      double mean_loss = nn_train_epoch(step, train.images, train.labels, train.count, kFeatures,
                                        kBatch, &shuffle, 100, e);
      double acc = nn_evaluate(sess, x, y, accuracy, test.images, test.labels, test.count,
                               kFeatures);
      printf("epoch %d: mean loss %.4f, test accuracy %.4f (%.1f s)\n", e, mean_loss, acc,
             nn_seconds() - start);
      fflush(stdout);
    }
    double acc = nn_evaluate(sess, x, y, accuracy, test.images, test.labels, test.count, kFeatures);
    printf("final test accuracy: %.4f after %d epochs in %.1f s\n", acc, epochs,
           nn_seconds() - start);
  }

  loom_callable_free(step);
  loom_session_free(sess);
  loom_graph_free(g);
  fmnist_free(&train);
  fmnist_free(&test);
  return 0;
}
