// The CPU device plugin: loom_plugin_init, the "CPU" device (host memory,
// 64-byte aligned, with in-use/peak statistics) and the table of every kernel
// the plugin provides. Reading kKernels tells you everything it can do.
//
// This file is compiled without -mavx2/-mfma (the kernels are compiled with
// them), so init can refuse a CPU that lacks AVX2/FMA with a message instead
// of the process dying on an illegal instruction.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels.h"
#include "loom/loom_version.h"
#include "loom/plugin/host_kernels.hpp"

namespace loom_cpu {
namespace {

// ---------------------------------------------------------------- the device

struct CpuDevice {
  std::atomic<int64_t> in_use{0};
  std::atomic<int64_t> peak{0};
};
CpuDevice g_device;

constexpr size_t kMinAlignment = 64;

// Each block carries a header just below the returned pointer: the base
// pointer (for free) and the requested size (for the statistics).
struct BlockHeader {
  void* base;
  size_t bytes;
};

loom_status* Allocate(void* state, int ordinal, size_t bytes, size_t alignment,
                      void** out_ptr) {
  auto* dev = static_cast<CpuDevice*>(state);
  size_t align = alignment < kMinAlignment ? kMinAlignment : alignment;
  if ((align & (align - 1)) != 0) {
    return Error(LOOM_CODE_INVALID_ARGUMENT,
                 StrCat("CPU allocate: alignment ", alignment, " is not a power of two"));
  }
  const size_t header = align;  // >= sizeof(BlockHeader), keeps the payload aligned
  if (bytes > SIZE_MAX - header - align) {
    return Error(LOOM_CODE_RESOURCE_EXHAUSTED,
                 StrCat("CPU allocate: ", bytes, " bytes is too large"));
  }
  const size_t total = (header + bytes + align - 1) / align * align;
  void* base = std::aligned_alloc(align, total);
  if (base == nullptr) {
    return Error(LOOM_CODE_RESOURCE_EXHAUSTED,
                 StrCat("CPU allocate: out of memory allocating ", bytes, " bytes (",
                        dev->in_use.load(), " bytes in use)"));
  }
  char* p = static_cast<char*>(base) + header;
  BlockHeader h{base, bytes};
  std::memcpy(p - sizeof(BlockHeader), &h, sizeof(h));
  const int64_t now = dev->in_use.fetch_add(static_cast<int64_t>(bytes)) +
                      static_cast<int64_t>(bytes);
  int64_t peak = dev->peak.load(std::memory_order_relaxed);
  while (now > peak && !dev->peak.compare_exchange_weak(peak, now)) {
  }
  *out_ptr = p;
  return nullptr;
}

void Deallocate(void* state, int ordinal, void* ptr) {
  if (ptr == nullptr) return;
  auto* dev = static_cast<CpuDevice*>(state);
  BlockHeader h;
  std::memcpy(&h, static_cast<char*>(ptr) - sizeof(BlockHeader), sizeof(h));
  dev->in_use.fetch_sub(static_cast<int64_t>(h.bytes));
  std::free(h.base);
}

// Device memory is host memory, so the host skips copies; these exist for
// completeness and for callers that copy anyway.
loom_status* Memcpy(void* state, int ordinal, loom_stream* stream, void* dst, const void* src,
                    size_t bytes) {
  if (bytes != 0) std::memcpy(dst, src, bytes);
  return nullptr;
}

loom_status* Synchronize(void* state, int ordinal) { return nullptr; }  // synchronous device

loom_status* MemoryStats(void* state, int ordinal, loom_memory_stats* out) {
  auto* dev = static_cast<CpuDevice*>(state);
  if (out->struct_size >= LOOM_STRUCT_SIZE(loom_memory_stats, bytes_limit)) {
    out->bytes_in_use = dev->in_use.load();
    out->peak_bytes_in_use = dev->peak.load();
    out->bytes_limit = -1;
  }
  return nullptr;
}

// ---------------------------------------------------------------- the kernel table

using loom::kit::KernelRow;

constexpr uint64_t kFloat = FloatTypes::mask();
constexpr uint64_t kNum = NumericTypes::mask();
constexpr uint64_t kIdx = IndexTypes::mask();
constexpr uint64_t kF32 = TypeList<float>::mask();
constexpr uint64_t kCast = CastTypes::mask();
constexpr uint64_t kCmp = ComparableTypes::mask();
constexpr uint64_t kEq = EqualityTypes::mask();
constexpr uint64_t kFill = FillTypes::mask();
constexpr uint64_t kAll = kAllPodMask;
constexpr uint64_t kOneHotIdx = TypeList<uint8_t, int32_t, int64_t>::mask();

const KernelRow kKernels[] = {
    // ---- unary math (kernels_elementwise.cc)
    {"Neg", NegKernel, {{"T", kNum}}, {}},
    {"Abs", AbsKernel, {{"T", kNum}}, {}},
    {"Square", SquareKernel, {{"T", kNum}}, {}},
    {"Sign", SignKernel, {{"T", kNum}}, {}},
    {"Relu", ReluKernel, {{"T", kNum}}, {}},
    {"Round", RoundKernel, {{"T", kNum}}, {}},
    {"Exp", ExpKernel, {{"T", kFloat}}, {}},
    {"Log", LogKernel, {{"T", kFloat}}, {}},
    {"Log1p", Log1pKernel, {{"T", kFloat}}, {}},
    {"Sqrt", SqrtKernel, {{"T", kFloat}}, {}},
    {"Rsqrt", RsqrtKernel, {{"T", kFloat}}, {}},
    {"Sigmoid", SigmoidKernel, {{"T", kFloat}}, {}},
    {"Tanh", TanhKernel, {{"T", kFloat}}, {}},
    {"Reciprocal", ReciprocalKernel, {{"T", kFloat}}, {}},
    {"Floor", FloorKernel, {{"T", kFloat}}, {}},
    {"Ceil", CeilKernel, {{"T", kFloat}}, {}},
    {"Softplus", SoftplusKernel, {{"T", kFloat}}, {}},
    {"Erf", ErfKernel, {{"T", kFloat}}, {}},
    {"Expm1", Expm1Kernel, {{"T", kFloat}}, {}},
    {"Tan", TanKernel, {{"T", kFloat}}, {}},
    {"Asin", AsinKernel, {{"T", kFloat}}, {}},
    {"Acos", AcosKernel, {{"T", kFloat}}, {}},
    {"Atan", AtanKernel, {{"T", kFloat}}, {}},
    {"Sinh", SinhKernel, {{"T", kFloat}}, {}},
    {"Cosh", CoshKernel, {{"T", kFloat}}, {}},
    {"Relu6", Relu6Kernel, {{"T", kFloat}}, {}},
    {"Elu", EluKernel, {{"T", kFloat}}, {}},
    {"Selu", SeluKernel, {{"T", kFloat}}, {}},
    {"Softsign", SoftsignKernel, {{"T", kFloat}}, {}},
    {"LeakyRelu", LeakyReluKernel, {{"T", kFloat}}, {}},
    {"Sin", SinKernel, {{"T", kFloat}}, {}},
    {"Cos", CosKernel, {{"T", kFloat}}, {}},
    {"LogicalNot", LogicalNotKernel, {}, {}},
    {"IsNan", IsNanKernel, {{"T", kFloat}}, {}},
    {"IsInf", IsInfKernel, {{"T", kFloat}}, {}},
    {"IsFinite", IsFiniteKernel, {{"T", kFloat}}, {}},
    // ---- binary, numpy broadcasting
    {"Add", AddKernel, {{"T", kNum}}, {}},
    {"AddV2", AddKernel, {{"T", kNum}}, {}},
    {"Sub", SubKernel, {{"T", kNum}}, {}},
    {"Mul", MulKernel, {{"T", kNum}}, {}},
    {"Div", DivKernel, {{"T", kNum}}, {}},
    {"RealDiv", RealDivKernel, {{"T", kFloat}}, {}},
    {"Maximum", MaximumKernel, {{"T", kNum}}, {}},
    {"Minimum", MinimumKernel, {{"T", kNum}}, {}},
    {"Pow", PowKernel, {{"T", kNum}}, {}},
    {"Atan2", Atan2Kernel, {{"T", kFloat}}, {}},
    {"FloorDiv", FloorDivKernel, {{"T", kNum}}, {}},
    {"FloorMod", FloorModKernel, {{"T", kNum}}, {}},
    {"SquaredDifference", SquaredDifferenceKernel, {{"T", kNum}}, {}},
    {"Equal", EqualKernel, {{"T", kEq}}, {}},
    {"NotEqual", NotEqualKernel, {{"T", kEq}}, {}},
    {"Less", LessKernel, {{"T", kCmp}}, {}},
    {"LessEqual", LessEqualKernel, {{"T", kCmp}}, {}},
    {"Greater", GreaterKernel, {{"T", kCmp}}, {}},
    {"GreaterEqual", GreaterEqualKernel, {{"T", kCmp}}, {}},
    {"LogicalAnd", LogicalAndKernel, {}, {}},
    {"LogicalOr", LogicalOrKernel, {}, {}},
    // ---- activation gradients (same shapes)
    {"ReluGrad", ReluGradKernel, {{"T", kNum}}, {}},
    {"SigmoidGrad", SigmoidGradKernel, {{"T", kFloat}}, {}},
    {"TanhGrad", TanhGradKernel, {{"T", kFloat}}, {}},
    {"SqrtGrad", SqrtGradKernel, {{"T", kFloat}}, {}},
    {"RsqrtGrad", RsqrtGradKernel, {{"T", kFloat}}, {}},
    {"ReciprocalGrad", ReciprocalGradKernel, {{"T", kFloat}}, {}},
    {"SoftplusGrad", SoftplusGradKernel, {{"T", kFloat}}, {}},
    {"Relu6Grad", Relu6GradKernel, {{"T", kFloat}}, {}},
    {"EluGrad", EluGradKernel, {{"T", kFloat}}, {}},
    {"SeluGrad", SeluGradKernel, {{"T", kFloat}}, {}},
    {"SoftsignGrad", SoftsignGradKernel, {{"T", kFloat}}, {}},
    {"LeakyReluGrad", LeakyReluGradKernel, {{"T", kFloat}}, {}},
    // ---- other elementwise
    {"Select", SelectKernel, {{"T", kAll}}, {}},
    {"SelectV2", SelectV2Kernel, {{"T", kAll}}, {}},
    {"Cast", CastKernel, {{"SrcT", kCast}, {"DstT", kCast}}, {}},
    {"AddN", AddNKernel, {{"T", kNum}}, {}},
    {"BiasAdd", BiasAddKernel, {{"T", kNum}}, {}},
    {"ZerosLike", ZerosLikeKernel, {{"T", kFill}}, {}},
    {"OnesLike", OnesLikeKernel, {{"T", kFill}}, {}},
    // ---- reductions (kernels_reduce.cc)
    {"Sum", SumKernel, {{"T", kNum}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Mean", MeanKernel, {{"T", kNum}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Prod", ProdKernel, {{"T", kNum}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Max", MaxKernel, {{"T", kNum}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Min", MinKernel, {{"T", kNum}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"ArgMax", ArgMaxKernel, {{"T", kCmp}, {"Tidx", kIdx}, {"output_type", kIdx}}, {"dimension"}},
    {"ArgMin", ArgMinKernel, {{"T", kCmp}, {"Tidx", kIdx}, {"output_type", kIdx}}, {"dimension"}},
    {"L2Loss", L2LossKernel, {{"T", kFloat}}, {}},
    {"BiasAddGrad", BiasAddGradKernel, {{"T", kNum}}, {}},
    {"Cumsum", CumsumKernel, {{"T", kNum}, {"Tidx", kIdx}}, {"axis"}},
    {"UnsortedSegmentSum", UnsortedSegmentSumKernel,
     {{"T", kNum}, {"Tindices", kIdx}, {"Tnumsegments", kIdx}}, {"num_segments"}},
    // ---- matrix products (kernels_matmul.cc)
    {"MatMul", MatMulKernel, {{"T", kNum}}, {}},
    {"BatchMatMul", BatchMatMulKernel, {{"T", kNum}}, {}},
    {"BatchMatMulV2", BatchMatMulV2Kernel, {{"T", kNum}}, {}},
    // ---- data movement (kernels_array.cc)
    {"Reshape", loom::kit::ReshapeKernel, {{"T", kAll}, {"Tshape", kIdx}}, {"shape"}},
    {"ExpandDims", loom::kit::ExpandDimsKernel, {{"T", kAll}, {"Tdim", kIdx}}, {"dim"}},
    {"Squeeze", loom::kit::SqueezeKernel, {{"T", kAll}}, {}},
    {"Transpose", TransposeKernel, {{"T", kAll}, {"Tperm", kIdx}}, {"perm"}},
    {"ConcatV2", ConcatV2Kernel, {{"T", kAll}, {"Tidx", kIdx}}, {"axis"}},
    {"Concat", ConcatKernel, {{"T", kAll}}, {"concat_dim"}},
    {"Split", SplitKernel, {{"T", kAll}}, {"split_dim"}},
    {"SplitV", SplitVKernel, {{"T", kAll}, {"Tlen", kIdx}}, {"size_splits", "split_dim"}},
    {"Slice", SliceKernel, {{"T", kAll}, {"Index", kIdx}}, {"begin", "size"}},
    {"StridedSlice", StridedSliceKernel, {{"T", kAll}, {"Index", kIdx}},
     {"begin", "end", "strides"}},
    {"StridedSliceGrad", StridedSliceGradKernel, {{"T", kAll}, {"Index", kIdx}},
     {"shape", "begin", "end", "strides"}},
    {"Pad", PadKernel, {{"T", kAll}, {"Tpaddings", kIdx}}, {"paddings"}},
    {"ConcatOffset", ConcatOffsetKernel, {}, {"concat_dim", "shape", "offset"}},
    {"Tile", TileKernel, {{"T", kAll}, {"Tmultiples", kIdx}}, {"multiples"}},
    {"Pack", PackKernel, {{"T", kAll}}, {}},
    {"Unpack", UnpackKernel, {{"T", kAll}}, {}},
    {"Fill", FillKernel, {{"T", kAll}, {"index_type", kIdx}}, {"dims"}},
    {"Shape", loom::kit::ShapeKernel, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
    {"Size", loom::kit::SizeKernel, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
    {"Rank", loom::kit::RankKernel, {{"T", kAll}}, {"output"}},
    {"OneHot", OneHotKernel, {{"T", kAll}, {"TI", kOneHotIdx}}, {"depth"}},
    {"BroadcastTo", BroadcastToKernel, {{"T", kAll}, {"Tidx", kIdx}}, {"shape"}},
    {"BroadcastGradientArgs", loom::kit::BroadcastGradientArgsKernel, {{"T", kIdx}},
     {"s0", "s1", "r0", "r1"}},
    {"Range", RangeKernel, {{"Tidx", kNum}}, {"start", "limit", "delta"}},
    {"InvertPermutation", InvertPermutationKernel, {{"T", kIdx}}, {}},
    {"GatherV2", GatherV2Kernel, {{"Tparams", kAll}, {"Tindices", kIdx}, {"Taxis", kIdx}},
     {"axis"}},
    {"DynamicStitch", DynamicStitchKernel, {{"T", kAll}}, {"indices"}},
    // ---- neural networks (kernels_nn.cc)
    {"Softmax", SoftmaxKernel, {{"T", kFloat}}, {}},
    {"LogSoftmax", LogSoftmaxKernel, {{"T", kFloat}}, {}},
    {"SoftmaxCrossEntropyWithLogits", SoftmaxCrossEntropyWithLogitsKernel, {{"T", kFloat}}, {}},
    {"SparseSoftmaxCrossEntropyWithLogits", SparseSoftmaxCrossEntropyWithLogitsKernel,
     {{"T", kFloat}, {"Tlabels", kIdx}}, {}},
    // ---- variable updates: modify input 0 in place, forward it to output 0
    {"AssignAdd", AssignAddKernel, {{"T", kNum}}, {}},
    {"AssignSub", AssignSubKernel, {{"T", kNum}}, {}},
    {"ApplyGradientDescent", ApplyGradientDescentKernel, {{"T", kFloat}}, {}},
    {"ApplyMomentum", ApplyMomentumKernel, {{"T", kFloat}}, {}},
    {"ApplyAdam", ApplyAdamKernel, {{"T", kFloat}}, {}},
    {"ApplyAdagrad", ApplyAdagradKernel, {{"T", kFloat}}, {}},
    {"ApplyRMSProp", ApplyRMSPropKernel, {{"T", kFloat}}, {}},
    // ---- convolutions (kernels_conv.cc, kernels_depthwise.cc), NHWC
    {"Conv2D", Conv2DKernel, {{"T", kFloat}}, {}},
    {"Conv2DBackpropInput", Conv2DBackpropInputKernel, {{"T", kFloat}}, {"input_sizes"}},
    {"Conv2DBackpropFilter", Conv2DBackpropFilterKernel, {{"T", kFloat}}, {"filter_sizes"}},
    {"DepthwiseConv2dNative", DepthwiseConv2dNativeKernel, {{"T", kFloat}}, {}},
    {"DepthwiseConv2dNativeBackpropInput", DepthwiseConv2dNativeBackpropInputKernel,
     {{"T", kFloat}}, {"input_sizes"}},
    {"DepthwiseConv2dNativeBackpropFilter", DepthwiseConv2dNativeBackpropFilterKernel,
     {{"T", kFloat}}, {"filter_sizes"}},
    // ---- pooling (kernels_pool.cc), NHWC
    {"MaxPool", MaxPoolKernel, {{"T", kFloat}}, {}},
    {"MaxPoolGrad", MaxPoolGradKernel, {{"T", kFloat}}, {}},
    {"MaxPoolGradGrad", MaxPoolGradGradKernel, {{"T", kFloat}}, {}},
    {"AvgPool", AvgPoolKernel, {{"T", kFloat}}, {}},
    {"AvgPoolGrad", AvgPoolGradKernel, {{"T", kFloat}}, {"orig_input_shape"}},
    // ---- batch normalisation (kernels_batch_norm.cc), NHWC, float statistics
    {"FusedBatchNorm", FusedBatchNormKernel, {{"T", kF32}}, {}},
    {"FusedBatchNormV2", FusedBatchNormKernel, {{"T", kF32}, {"U", kF32}}, {}},
    {"FusedBatchNormV3", FusedBatchNormKernel, {{"T", kF32}, {"U", kF32}}, {}},
    {"FusedBatchNormGrad", FusedBatchNormGradKernel, {{"T", kF32}}, {}},
    {"FusedBatchNormGradV2", FusedBatchNormGradKernel, {{"T", kF32}, {"U", kF32}}, {}},
    {"FusedBatchNormGradV3", FusedBatchNormGradKernel, {{"T", kF32}, {"U", kF32}}, {}},
    // ---- random (kernels_random.cc): seeded per node, reproducible
    {"RandomUniform", RandomUniformKernel, {{"dtype", kFloat}, {"T", kIdx}}, {"shape"}, nullptr, RandomCreate, RandomDestroy},
    {"RandomStandardNormal", RandomStandardNormalKernel, {{"dtype", kFloat}, {"T", kIdx}},
     {"shape"}, nullptr, RandomCreate, RandomDestroy},
    {"TruncatedNormal", TruncatedNormalKernel, {{"dtype", kFloat}, {"T", kIdx}}, {"shape"},
     nullptr, RandomCreate, RandomDestroy},
};

// What init registers after the kit's prologue (LOOM_KIT_PLUGIN below).
loom_status* RegisterAll(const loom_host_api* host) {
#if defined(__x86_64__) && defined(LOOM_CPU_REQUIRE_AVX2)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    return host->status_new(LOOM_CODE_FAILED_PRECONDITION,
                            "cpu plugin was built with -mavx2 -mfma but this CPU lacks AVX2 or "
                            "FMA; rebuild with -DLOOM_CPU_AVX2=OFF");
  }
#endif
  loom_device_interface dev = {};
  dev.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  dev.type = "CPU";
  dev.count = 1;
  dev.priority = 100;
  dev.memory_is_host = 1;
  dev.state = &g_device;
  dev.allocate = Allocate;
  dev.deallocate = Deallocate;
  dev.allocate_host_pinned = nullptr;
  dev.deallocate_host_pinned = nullptr;
  dev.memcpy_host_to_device = Memcpy;
  dev.memcpy_device_to_host = Memcpy;
  dev.memcpy_device_to_device = Memcpy;
  dev.stream_create = nullptr;  // synchronous device: no streams or events
  dev.stream_destroy = nullptr;
  dev.event_create = nullptr;
  dev.event_destroy = nullptr;
  dev.event_record = nullptr;
  dev.stream_wait_event = nullptr;
  dev.event_synchronize = nullptr;
  dev.synchronize = Synchronize;
  dev.memory_stats = MemoryStats;
  dev.ext = nullptr;
  LOOM_RETURN_IF_ERROR(host->register_device(&dev));
  return loom::kit::RegisterKernels(host, "CPU", kKernels);
}

}  // namespace

}  // namespace loom_cpu

LOOM_KIT_PLUGIN("cpu", LOOM_VERSION_STRING, loom_cpu::RegisterAll)
