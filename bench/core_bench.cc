// Core benchmarks: session-run overhead and MatMul throughput next to
// OpenBLAS's cblas_sgemm in the same binary and run. Not a test: it asserts
// nothing. Run: build/bench/core_bench (set OPENBLAS_CORETYPE=SkylakeX on
// Zen CPUs: OpenBLAS 0.3.21 misdetects them and runs at half speed).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "loom/loom.h"

namespace {

void Check(loom_status* s) {
  if (s) {
    std::fprintf(stderr, "loom error: %s\n", loom_status_message(s));
    std::exit(1);
  }
}

loom_output Build(loom_graph* g, const char* type, std::vector<loom_output> in,
                  loom_dtype placeholder_dtype = LOOM_DTYPE_INVALID) {
  loom_op_builder* b = loom_op_builder_new(g, type, nullptr);
  for (auto& i : in) loom_op_builder_add_input(b, i);
  if (placeholder_dtype != LOOM_DTYPE_INVALID) loom_op_builder_set_attr_type(b, "dtype", placeholder_dtype);
  loom_op* op = nullptr;
  Check(loom_op_builder_finish(b, &op));
  return {op, 0};
}

loom_tensor* Fill(loom_dtype dt, std::vector<int64_t> dims, float v) {
  loom_tensor* t = nullptr;
  Check(loom_tensor_new(dt, dims.data(), static_cast<int>(dims.size()), &t));
  float* p = static_cast<float*>(loom_tensor_data(t));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < loom_tensor_num_elements(t); ++i) p[i] = v == 0 ? u(rng) : v;
  return t;
}

// A graph of `n` chained scalar adds fed by one placeholder, run through a
// prepared callable (the hot-loop path).
void RunChain(benchmark::State& state, int n, int inter_op) {
  loom_graph* g = loom_graph_new();
  loom_output x = Build(g, "Placeholder", {}, LOOM_DTYPE_FLOAT);
  loom_output y = x;
  for (int i = 0; i < n; ++i) y = Build(g, "AddV2", {y, x});
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_inter_op_threads(o, inter_op);
  loom_session_options_set_intra_op_threads(o, 1);
  loom_session* s = nullptr;
  Check(loom_session_new(g, o, &s));
  loom_callable* c = nullptr;
  Check(loom_session_make_callable(s, &x, 1, &y, 1, nullptr, 0, &c));
  loom_tensor* in = Fill(LOOM_DTYPE_FLOAT, {}, 1.0f);
  for (auto _ : state) {
    loom_tensor* out = nullptr;
    Check(loom_callable_run(c, &in, &out));
    loom_tensor_free(out);
  }
  state.counters["ns_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate |
                                                                         benchmark::Counter::kInvert);
  loom_tensor_free(in);
  loom_callable_free(c);
  loom_session_free(s);
  loom_session_options_free(o);
  loom_graph_free(g);
}

void BM_SessionRun_OneOp(benchmark::State& state) { RunChain(state, 1, 1); }
void BM_SessionRun_Chain100(benchmark::State& state) { RunChain(state, 100, 1); }

// The same one-op graph through loom_session_run (signature lookup each time).
void BM_SessionRun_OneOp_Uncached(benchmark::State& state) {
  loom_graph* g = loom_graph_new();
  loom_output x = Build(g, "Placeholder", {}, LOOM_DTYPE_FLOAT);
  loom_output y = Build(g, "AddV2", {x, x});
  loom_session* s = nullptr;
  Check(loom_session_new(g, nullptr, &s));
  loom_tensor* in = Fill(LOOM_DTYPE_FLOAT, {}, 1.0f);
  for (auto _ : state) {
    loom_tensor* out = nullptr;
    Check(loom_session_run(s, &x, &in, 1, &y, 1, nullptr, 0, &out));
    loom_tensor_free(out);
  }
  loom_tensor_free(in);
  loom_session_free(s);
  loom_graph_free(g);
}

void BM_LoomMatMul(benchmark::State& state) {
  const int64_t n = state.range(0);
  loom_graph* g = loom_graph_new();
  loom_output a = Build(g, "Placeholder", {}, LOOM_DTYPE_FLOAT);
  loom_output b = Build(g, "Placeholder", {}, LOOM_DTYPE_FLOAT);
  loom_output c = Build(g, "MatMul", {a, b});
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_intra_op_threads(o, 2);
  loom_session_options_set_inter_op_threads(o, 1);
  loom_session* s = nullptr;
  Check(loom_session_new(g, o, &s));
  loom_output feeds[] = {a, b};
  loom_callable* call = nullptr;
  Check(loom_session_make_callable(s, feeds, 2, &c, 1, nullptr, 0, &call));
  loom_tensor* in[] = {Fill(LOOM_DTYPE_FLOAT, {n, n}, 0), Fill(LOOM_DTYPE_FLOAT, {n, n}, 0)};
  for (auto _ : state) {
    loom_tensor* out = nullptr;
    Check(loom_callable_run(call, in, &out));
    loom_tensor_free(out);
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9,
                                                benchmark::Counter::kIsRate);
  loom_tensor_free(in[0]);
  loom_tensor_free(in[1]);
  loom_callable_free(call);
  loom_session_free(s);
  loom_session_options_free(o);
  loom_graph_free(g);
}

void BM_OpenBLAS_Sgemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  openblas_set_num_threads(2);
  std::vector<float> a(n * n), b(n * n), c(n * n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : a) v = u(rng);
  for (auto& v : b) v = u(rng);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9,
                                                benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_SessionRun_OneOp);
BENCHMARK(BM_SessionRun_OneOp_Uncached);
BENCHMARK(BM_SessionRun_Chain100);
BENCHMARK(BM_LoomMatMul)->Arg(256)->Arg(1024)->Arg(2048)->UseRealTime();
BENCHMARK(BM_OpenBLAS_Sgemm)->Arg(256)->Arg(1024)->Arg(2048)->UseRealTime();
BENCHMARK_MAIN();
