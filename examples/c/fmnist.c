/* IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header
 * 0x00 0x00 <type 0x08 = ubyte> <ndims>, then ndims big-endian uint32 sizes,
 * then the data. zlib's gzread reads gzip and plain files alike. */
#include "fmnist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FMNIST_PACKAGE "dataset-fashion-mnist"

const char* fmnist_default_dir(void) {
  const char* env = getenv("LOOM_DATA_DIR");
  return env && env[0] ? env : FMNIST_DEFAULT_DIR;
}

static uint32_t be32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Reads one IDX file of unsigned bytes with the expected rank. *out_data is
 * malloc'ed (dims[0] * ... bytes, at most `limit` items when limit > 0). */
static int read_idx(const char* path, int rank, uint32_t* dims, int limit,
                    unsigned char** out_data, char* err, size_t err_len) {
  FILE* probe = fopen(path, "rb");
  if (!probe) {
    snprintf(err, err_len,
             "cannot open %s: %s. Install the Fashion-MNIST files with "
             "`apt-get install " FMNIST_PACKAGE "` (they go to " FMNIST_DEFAULT_DIR
             "), or point LOOM_DATA_DIR at a directory holding them.",
             path, strerror(errno));
    return -1;
  }
  fclose(probe);
  gzFile f = gzopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "cannot open %s with zlib", path);
    return -1;
  }
  unsigned char header[4 + 4 * 4];
  int want = 4 + 4 * rank;
  if (gzread(f, header, (unsigned)want) != want) {
    snprintf(err, err_len, "%s: truncated IDX header", path);
    gzclose(f);
    return -1;
  }
  if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != rank) {
    snprintf(err, err_len,
             "%s: not an IDX file of unsigned bytes with %d dims (magic %02x%02x%02x%02x)", path,
             rank, header[0], header[1], header[2], header[3]);
    gzclose(f);
    return -1;
  }
  size_t item = 1;
  for (int i = 0; i < rank; ++i) {
    dims[i] = be32(header + 4 + 4 * i);
    if (i > 0) item *= dims[i];
  }
  if (dims[0] > 10000000u || item > 1000000u) {
    snprintf(err, err_len, "%s: implausible sizes in the IDX header", path);
    gzclose(f);
    return -1;
  }
  if (limit > 0 && (uint32_t)limit < dims[0]) dims[0] = (uint32_t)limit;
  size_t bytes = (size_t)dims[0] * item;
  unsigned char* data = (unsigned char*)malloc(bytes ? bytes : 1);
  if (!data) {
    snprintf(err, err_len, "%s: out of memory for %zu bytes", path, bytes);
    gzclose(f);
    return -1;
  }
  size_t done = 0;
  while (done < bytes) {
    unsigned chunk = (unsigned)(bytes - done > (1u << 30) ? (1u << 30) : bytes - done);
    int got = gzread(f, data + done, chunk);
    if (got <= 0) {
      snprintf(err, err_len, "%s: truncated data (%zu of %zu bytes)", path, done, bytes);
      free(data);
      gzclose(f);
      return -1;
    }
    done += (size_t)got;
  }
  gzclose(f);
  *out_data = data;
  return 0;
}

int fmnist_load(const char* dir, const char* split, int limit, fmnist_set* out, char* err,
                size_t err_len) {
  char path[4096];
  uint32_t idims[3], ldims[1];
  unsigned char *pixels = NULL, *labels = NULL;
  if (!dir) dir = fmnist_default_dir();
  memset(out, 0, sizeof *out);

  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
  if (read_idx(path, 3, idims, limit, &pixels, err, err_len)) return -1;
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
  if (read_idx(path, 1, ldims, limit, &labels, err, err_len)) {
    free(pixels);
    return -1;
  }
  if (idims[0] != ldims[0]) {
    snprintf(err, err_len, "%s: %u labels for %u images", path, ldims[0], idims[0]);
    free(pixels);
    free(labels);
    return -1;
  }
  const size_t n = idims[0], px = (size_t)idims[1] * idims[2];
  out->images = (float*)malloc(n * px * sizeof(float) + 1);
  out->labels = (int32_t*)malloc(n * sizeof(int32_t) + 1);
  if (!out->images || !out->labels) {
    snprintf(err, err_len, "out of memory for %zu images", n);
    free(pixels);
    free(labels);
    fmnist_free(out);
    return -1;
  }
  for (size_t i = 0; i < n * px; ++i) out->images[i] = pixels[i] / 255.0f;
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] > 9) {
      snprintf(err, err_len, "%s: label %u of example %zu is not a class in [0, 10)", path,
               labels[i], i);
      free(pixels);
      free(labels);
      fmnist_free(out);
      return -1;
    }
    out->labels[i] = labels[i];
  }
  out->count = (int)n;
  out->rows = (int)idims[1];
  out->cols = (int)idims[2];
  free(pixels);
  free(labels);
  return 0;
}

void fmnist_free(fmnist_set* set) {
  if (!set) return;
  free(set->images);
  free(set->labels);
  set->images = NULL;
  set->labels = NULL;
  set->count = 0;
}
