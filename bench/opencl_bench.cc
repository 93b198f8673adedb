// OpenCL device benchmarks (Google Benchmark), all through loom.h:
//   BM_MatMul/<device>/<n>   n x n x n MatMul with operands in variables on the
//                            device, GFLOP/s (a Sum of the product is fetched so
//                            the timing waits for the device)
//   BM_RoundTrip/<device>/<MiB>  feed MiB from the host, a Reshape on the
//                            device, fetch it back: host->device + device->host
//                            (on the CPU no copy happens: the difference is the
//                            copies' cost)
//   BM_SendRecv/<device>/<MiB>  Neg on the CPU -> Neg on the device -> Neg on
//                            the CPU: a Send/Recv pair each way between the
//                            partitions (dev 0 runs all three on the CPU: the
//                            difference is the pairs' cost, copies included)
//   BM_OpChain/<device>      50 dependent AddV2 on 256 floats: the cost of one
//                            op (scheduling + a kernel launch)
//   BM_MlpStep/<device>      one training step of the MLP (784-256-128-10,
//                            batch 100, Adam) with the model on the device and
//                            its input fed from the host; items/s = steps/s
// Devices: 0 = CPU, 1 = OPENCL. Not a test: it asserts nothing.
// Run: build/bin/opencl_bench [--benchmark_filter=MatMul]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mlp_model.h"

namespace {

const char* DeviceName(int64_t d) { return d == 0 ? "/device:CPU:0" : "/device:OPENCL:0"; }

bool Present(int64_t d) {
  const char* type = d == 0 ? "CPU" : "OPENCL";
  for (int i = 0; i < loom_device_count(); ++i)
    if (std::strcmp(loom_device_type(i), type) == 0) return true;
  return false;
}

void Check(loom_status* s, const char* what) {
  if (s) {
    std::fprintf(stderr, "%s: %s\n", what, loom_status_message(s));
    std::exit(1);
  }
}

loom_output Op(loom_graph* g, const char* type, std::vector<loom_output> in, const char* device,
               loom_dtype dtype = LOOM_DTYPE_INVALID) {
  loom_op_builder* b = loom_op_builder_new(g, type, nullptr);
  for (auto& i : in) loom_op_builder_add_input(b, i);
  if (dtype != LOOM_DTYPE_INVALID) loom_op_builder_set_attr_type(b, "dtype", dtype);
  if (device) loom_op_builder_set_device(b, device);
  loom_op* op = nullptr;
  Check(loom_op_builder_finish(b, &op), type);
  return {op, 0};
}

loom_output Const(loom_graph* g, loom_tensor* t) {
  loom_op_builder* b = loom_op_builder_new(g, "Const", nullptr);
  loom_op_builder_set_attr_tensor(b, "value", t);
  loom_op_builder_set_attr_type(b, "dtype", loom_tensor_dtype(t));
  loom_op* op = nullptr;
  Check(loom_op_builder_finish(b, &op), "Const");
  loom_tensor_free(t);
  return {op, 0};
}

loom_tensor* Random(std::vector<int64_t> dims) {
  loom_tensor* t = nullptr;
  Check(loom_tensor_new(LOOM_DTYPE_FLOAT, dims.data(), static_cast<int>(dims.size()), &t), "tensor");
  mlp::Lcg rng(7);
  float* p = static_cast<float*>(loom_tensor_data(t));
  for (int64_t i = 0; i < loom_tensor_num_elements(t); ++i) p[i] = static_cast<float>(rng.Next() - 0.5);
  return t;
}

void BM_MatMul(benchmark::State& state) {
  const int64_t dev = state.range(0), n = state.range(1);
  if (!Present(dev)) return state.SkipWithError("device not present");
  const char* d = DeviceName(dev);
  loom_graph* g = loom_graph_new();
  loom_output vars[2];
  std::vector<loom_op*> inits;
  for (int i = 0; i < 2; ++i) {
    loom_op_builder* b = loom_op_builder_new(g, "VariableV2", i ? "b" : "a");
    loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
    int64_t dims[2] = {n, n};
    loom_op_builder_set_attr_shape(b, "shape", dims, 2);
    loom_op_builder_set_device(b, d);
    loom_op* v = nullptr;
    Check(loom_op_builder_finish(b, &v), "VariableV2");
    vars[i] = {v, 0};
    inits.push_back(Op(g, "Assign", {vars[i], Const(g, Random({n, n}))}, nullptr).op);
  }
  loom_output c = Op(g, "MatMul", {vars[0], vars[1]}, d);
  loom_tensor* axes = nullptr;
  int64_t two = 2;
  Check(loom_tensor_new(LOOM_DTYPE_INT32, &two, 1, &axes), "axes");
  static_cast<int32_t*>(loom_tensor_data(axes))[0] = 0;
  static_cast<int32_t*>(loom_tensor_data(axes))[1] = 1;
  loom_output sum = Op(g, "Sum", {c, Const(g, axes)}, d);
  loom_session* s = nullptr;
  Check(loom_session_new(g, nullptr, &s), "session");
  Check(loom_session_run(s, nullptr, nullptr, 0, nullptr, 0, inits.data(), 2, nullptr), "init");
  loom_callable* call = nullptr;
  Check(loom_session_make_callable(s, nullptr, 0, &sum, 1, nullptr, 0, &call), "callable");
  for (int i = 0; i < 2; ++i) {  // warm-up: kernel compilation, first allocations
    loom_tensor* out = nullptr;
    Check(loom_callable_run(call, nullptr, &out), "run");
    loom_tensor_free(out);
  }
  for (auto _ : state) {
    loom_tensor* out = nullptr;
    Check(loom_callable_run(call, nullptr, &out), "run");
    loom_tensor_free(out);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
  loom_callable_free(call);
  loom_session_free(s);
  loom_graph_free(g);
}
BENCHMARK(BM_MatMul)
    ->ArgNames({"dev", "n"})
    ->ArgsProduct({{0, 1}, {256, 512, 1024}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Times feeding `mib` MiB of floats to x and fetching y, per MiB moved
// (an inverted rate: seconds per MiB). Frees the graph.
void TimePerMiB(benchmark::State& state, loom_graph* g, loom_output x, loom_output y, int64_t mib) {
  loom_session* s = nullptr;
  Check(loom_session_new(g, nullptr, &s), "session");
  loom_callable* call = nullptr;
  Check(loom_session_make_callable(s, &x, 1, &y, 1, nullptr, 0, &call), "callable");
  loom_tensor* in = Random({mib * 262144});
  auto run = [&] {
    loom_tensor* out = nullptr;
    Check(loom_callable_run(call, &in, &out), "run");
    loom_tensor_free(out);
  };
  for (int i = 0; i < 2; ++i) run();  // warm-up: kernel compilation, first allocations
  for (auto _ : state) run();
  state.SetBytesProcessed(state.iterations() * mib * (1 << 20));
  state.counters["per_MiB"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(mib),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  loom_tensor_free(in);
  loom_callable_free(call);
  loom_session_free(s);
  loom_graph_free(g);
}

void BM_RoundTrip(benchmark::State& state) {
  const int64_t dev = state.range(0), mib = state.range(1);
  if (!Present(dev)) return state.SkipWithError("device not present");
  loom_graph* g = loom_graph_new();
  loom_output x = Op(g, "Placeholder", {}, "/device:CPU:0", LOOM_DTYPE_FLOAT);
  loom_tensor* shape = nullptr;
  int64_t one = 1;
  Check(loom_tensor_new(LOOM_DTYPE_INT32, &one, 1, &shape), "shape");
  static_cast<int32_t*>(loom_tensor_data(shape))[0] = -1;
  loom_output y = Op(g, "Reshape", {x, Const(g, shape)}, DeviceName(dev));
  TimePerMiB(state, g, x, y, mib);
}
BENCHMARK(BM_RoundTrip)
    ->ArgNames({"dev", "MiB"})
    ->ArgsProduct({{0, 1}, {1, 4, 16, 64}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_SendRecv(benchmark::State& state) {
  const int64_t dev = state.range(0), mib = state.range(1);
  if (!Present(dev)) return state.SkipWithError("device not present");
  loom_graph* g = loom_graph_new();
  loom_output x = Op(g, "Placeholder", {}, "/device:CPU:0", LOOM_DTYPE_FLOAT);
  loom_output a = Op(g, "Neg", {x}, "/device:CPU:0");
  loom_output b = Op(g, "Neg", {a}, DeviceName(dev));
  loom_output c = Op(g, "Neg", {b}, "/device:CPU:0");
  TimePerMiB(state, g, x, c, mib);
}
BENCHMARK(BM_SendRecv)
    ->ArgNames({"dev", "MiB"})
    ->ArgsProduct({{0, 1}, {1, 16}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Per-op cost: a chain of 50 dependent AddV2 on 256 floats on the device,
// fetched at the end; time per op ~ launch overhead of one kernel.
void BM_OpChain(benchmark::State& state) {
  const int64_t dev = state.range(0);
  if (!Present(dev)) return state.SkipWithError("device not present");
  const char* d = DeviceName(dev);
  loom_graph* g = loom_graph_new();
  loom_output x = Const(g, Random({256}));
  loom_output y = Op(g, "AddV2", {x, x}, d);
  for (int i = 1; i < 50; ++i) y = Op(g, "AddV2", {y, x}, d);
  loom_session* s = nullptr;
  Check(loom_session_new(g, nullptr, &s), "session");
  loom_callable* call = nullptr;
  Check(loom_session_make_callable(s, nullptr, 0, &y, 1, nullptr, 0, &call), "callable");
  for (auto _ : state) {
    loom_tensor* out = nullptr;
    Check(loom_callable_run(call, nullptr, &out), "run");
    loom_tensor_free(out);
  }
  state.counters["per_op"] = benchmark::Counter(static_cast<double>(state.iterations()) * 50,
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  loom_callable_free(call);
  loom_session_free(s);
  loom_graph_free(g);
}
BENCHMARK(BM_OpChain)->ArgNames({"dev"})->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_MlpStep(benchmark::State& state) {
  const int64_t dev = state.range(0);
  if (!Present(dev)) return state.SkipWithError("device not present");
  static const mlp::Data data = mlp::MakeData(1000, 3);
  mlp::Model m;
  std::string err = m.Build(DeviceName(dev), 100);
  if (!err.empty()) return state.SkipWithError(err.c_str());
  int first = 0;
  double loss = 0;
  for (int i = 0; i < 3; ++i, first += 100) {  // warm-up
    err = m.Step(data, first, &loss);
    if (!err.empty()) return state.SkipWithError(err.c_str());
  }
  for (auto _ : state) {
    err = m.Step(data, first, &loss);
    if (!err.empty()) return state.SkipWithError(err.c_str());
    first += 100;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["loss"] = loss;
}
BENCHMARK(BM_MlpStep)->ArgNames({"dev"})->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
