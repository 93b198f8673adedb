// Convolution benchmarks: Conv2D and its two backprops for the two layers of
// the Fashion-MNIST CNN (batch 100, SAME, stride 1) through the C API, and
// the GEMM shapes those kernels issue, in Eigen (what plugins/cpu uses) next
// to OpenBLAS's cblas_sgemm, both single-threaded: the measurement behind the
// choice of GEMM in plugins/cpu/kernels_conv.cc. Not a test: asserts nothing.
//
//   build/bench/conv_bench [--benchmark_filter=Conv2D]
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <Eigen/Core>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "loom/loom.h"

extern "C" void openblas_set_num_threads(int);

namespace {

void Check(loom_status* s) {
  if (s) {
    std::fprintf(stderr, "loom error: %s\n", loom_status_message(s));
    std::exit(1);
  }
}

loom_tensor* Random(std::vector<int64_t> dims) {
  loom_tensor* t = nullptr;
  Check(loom_tensor_new(LOOM_DTYPE_FLOAT, dims.data(), static_cast<int>(dims.size()), &t));
  float* p = static_cast<float*>(loom_tensor_data(t));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < loom_tensor_num_elements(t); ++i) p[i] = u(rng);
  return t;
}

loom_tensor* Ints(std::vector<int32_t> v) {
  loom_tensor* t = nullptr;
  const int64_t n = static_cast<int64_t>(v.size());
  Check(loom_tensor_new(LOOM_DTYPE_INT32, &n, 1, &t));
  std::copy(v.begin(), v.end(), static_cast<int32_t*>(loom_tensor_data(t)));
  return t;
}

loom_output Op(loom_graph* g, const char* type, std::vector<loom_output> in, loom_dtype ph = LOOM_DTYPE_INVALID) {
  loom_op_builder* b = loom_op_builder_new(g, type, nullptr);
  for (auto& i : in) loom_op_builder_add_input(b, i);
  if (ph != LOOM_DTYPE_INVALID) loom_op_builder_set_attr_type(b, "dtype", ph);
  if (ph == LOOM_DTYPE_INVALID) {
    const int64_t strides[4] = {1, 1, 1, 1};
    loom_op_builder_set_attr_int_list(b, "strides", strides, 4);
    loom_op_builder_set_attr_string(b, "padding", "SAME", 4);
  }
  loom_op* op = nullptr;
  Check(loom_op_builder_finish(b, &op));
  return {op, 0};
}

// layer 0: 5x5x1x32 on 28x28; layer 1: 5x5x32x64 on 14x14. pass 0: forward,
// 1: backprop input, 2: backprop filter.
void BM_Conv2D(benchmark::State& state) {
  const int layer = static_cast<int>(state.range(0)), pass = static_cast<int>(state.range(1));
  const int32_t n = 100, hw = layer == 0 ? 28 : 14, ic = layer == 0 ? 1 : 32, oc = layer == 0 ? 32 : 64;
  loom_graph* g = loom_graph_new();
  loom_output a = Op(g, "Placeholder", {}, LOOM_DTYPE_FLOAT);
  loom_output b = Op(g, "Placeholder", {}, LOOM_DTYPE_FLOAT);
  loom_output sizes = Op(g, "Placeholder", {}, LOOM_DTYPE_INT32);
  loom_output y;
  std::vector<loom_tensor*> in;
  loom_tensor* x = Random({n, hw, hw, ic});
  loom_tensor* w = Random({5, 5, ic, oc});
  loom_tensor* dy = Random({n, hw, hw, oc});
  std::vector<loom_output> feeds;
  if (pass == 0) {
    y = Op(g, "Conv2D", {a, b});
    feeds = {a, b};
    in = {x, w};
  } else if (pass == 1) {
    y = Op(g, "Conv2DBackpropInput", {sizes, a, b});
    feeds = {sizes, a, b};
    in = {Ints({n, hw, hw, ic}), w, dy};
  } else {
    y = Op(g, "Conv2DBackpropFilter", {a, sizes, b});
    feeds = {a, sizes, b};
    in = {x, Ints({5, 5, ic, oc}), dy};
  }
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_intra_op_threads(o, 2);
  loom_session_options_set_inter_op_threads(o, 1);
  loom_session* s = nullptr;
  Check(loom_session_new(g, o, &s));
  loom_callable* call = nullptr;
  Check(loom_session_make_callable(s, feeds.data(), static_cast<int>(feeds.size()), &y, 1, nullptr, 0, &call));
  for (auto _ : state) {
    loom_tensor* out = nullptr;
    Check(loom_callable_run(call, in.data(), &out));
    loom_tensor_free(out);
  }
  const double flops = 2.0 * n * hw * hw * ic * oc * 25;
  state.counters["GFLOPS"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  for (loom_tensor* t : {x, w, dy}) loom_tensor_free(t);
  if (pass != 0) loom_tensor_free(in[pass == 1 ? 0 : 1]);  // the sizes tensor
  loom_callable_free(call);
  loom_session_free(s);
  loom_session_options_free(o);
  loom_graph_free(g);
}
BENCHMARK(BM_Conv2D)
    ->ArgNames({"layer", "pass"})
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The per-tile GEMMs of kernels_conv.cc for the second layer (163 output rows
// per tile, K = 5*5*32 = 800, 64 channels) and the first (5242 rows, K = 25).
// shape 0: forward C[m,n] = A[m,k] B[k,n]; 1: backprop input C = A B^T;
// 2: backprop filter C = A^T B.
struct GemmShape {
  int m, n, k;
  bool ta, tb;
};
const GemmShape kShapes[] = {{163, 64, 800, false, false}, {163, 800, 64, false, true},
                             {800, 64, 163, true, false},  {5242, 32, 25, false, false},
                             {25, 32, 5242, true, false}};

template <bool kEigen>
void BM_Gemm(benchmark::State& state) {
  const GemmShape& s = kShapes[state.range(0)];
  using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int ar = s.ta ? s.k : s.m, ac = s.ta ? s.m : s.k, br = s.tb ? s.n : s.k, bc = s.tb ? s.k : s.n;
  M A = M::Random(ar, ac), B = M::Random(br, bc), C(s.m, s.n);
  openblas_set_num_threads(1);
  for (auto _ : state) {
    if (kEigen) {
      if (s.tb) C.noalias() = A * B.transpose();
      else if (s.ta) C.noalias() = A.transpose() * B;
      else C.noalias() = A * B;
    } else {
      cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.m, s.n,
                  s.k, 1.0f, A.data(), ac, B.data(), bc, 0.0f, C.data(), s.n);
    }
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["GFLOPS"] =
      benchmark::Counter(2.0 * s.m * s.n * s.k * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK_TEMPLATE(BM_Gemm, true)->ArgName("shape")->DenseRange(0, 4);
BENCHMARK_TEMPLATE(BM_Gemm, false)->ArgName("shape")->DenseRange(0, 4);

}  // namespace

BENCHMARK_MAIN();
