// The OpenCL device plugin: loom_plugin_init, the "OPENCL" device type (one
// device per GPU, CPU or accelerator the ICD loader offers), and the table of
// every kernel the plugin provides. Reading kKernels tells you everything it
// can do.
//
// Device pointers are cl_mem handles (cl_device.h says why and how). The
// device has priority 50, below the CPU's 100: ops run here when a graph asks
// for /device:OPENCL:N, or when LOOM_PLUGIN_CONFIG_OPENCL_PRIORITY raises it.
//
// Start-up is cheap: init only enumerates platforms and devices. A device's
// context, queue and program are created on its first use, and the program
// (cl/*.cl, embedded) is compiled once per context and cached on disk (see
// CacheDir in cl_device.h), keyed by a hash of the source, the device, the
// driver version and the build options.
#include <cstdlib>
#include <cstring>

#include "kernels.h"
#include "loom/loom_version.h"
#include "loom/plugin/host_kernels.hpp"

namespace loom_opencl {
namespace {

// ---------------------------------------------------------------- the device

ClDevice* Dev(int ordinal) {
  return ordinal >= 0 && ordinal < static_cast<int>(g_devices.size()) ? g_devices[ordinal].get()
                                                                      : nullptr;
}

loom_status* BadOrdinal(int ordinal) {
  return InvalidArgument("OPENCL: no device with ordinal ", ordinal, " (", g_devices.size(),
                         " devices)");
}

// A stream is an extra in-order queue on the device's context; the NULL
// stream is the device's own queue, which every kernel uses.
struct Stream {
  cl_command_queue queue;
};
struct Event {
  cl_event event = nullptr;
};

cl_command_queue QueueOf(ClDevice* d, loom_stream* s) {
  return s ? reinterpret_cast<Stream*>(s)->queue : d->queue();
}

loom_status* Allocate(void* state, int ordinal, size_t bytes, size_t alignment, void** out) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  // cl_mem base addresses satisfy CL_DEVICE_MEM_BASE_ADDR_ALIGN (>= 128 bytes
  // on every device we know); the runtime asks for 64.
  cl_mem m = nullptr;
  LOOM_RETURN_IF_ERROR(d->Allocate(bytes, &m));
  *out = m;
  return nullptr;
}

void Deallocate(void* state, int ordinal, void* ptr) {
  if (ClDevice* d = Dev(ordinal)) d->Free(static_cast<cl_mem>(ptr));
}

// Host -> device. With the NULL stream the copy must be complete when this
// returns as far as anyone can observe: small copies (scalars, labels, a
// minibatch) are staged and enqueued on the device's in-order queue, ahead of
// every later kernel or read, so they do not stall it (ClDevice::WriteStaged);
// copies over 1 MiB block.
loom_status* MemcpyH2D(void* state, int ordinal, loom_stream* stream, void* dst, const void* src,
                       size_t bytes) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  if (bytes == 0) return nullptr;
  cl_mem m = static_cast<cl_mem>(dst);
  if (stream) {  // asynchronous on that stream: the caller keeps src alive
    LOOM_CL_CHECK(clEnqueueWriteBuffer(QueueOf(d, stream), m, CL_FALSE, 0, bytes, src, 0, nullptr,
                                       nullptr),
                  "clEnqueueWriteBuffer", StrCat("(", bytes, " bytes to ", d->loom_name(), ")"));
    return nullptr;
  }
  return d->WriteStaged(m, src, bytes, "host to device");
}

loom_status* MemcpyD2H(void* state, int ordinal, loom_stream* stream, void* dst, const void* src,
                       size_t bytes) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  if (bytes == 0) return nullptr;
  cl_mem m = static_cast<cl_mem>(const_cast<void*>(src));
  if (stream) {
    LOOM_CL_CHECK(clEnqueueReadBuffer(QueueOf(d, stream), m, CL_FALSE, 0, bytes, dst, 0, nullptr,
                                      nullptr),
                  "clEnqueueReadBuffer", StrCat("(", bytes, " bytes from ", d->loom_name(), ")"));
    return nullptr;
  }
  return d->Read(dst, m, 0, bytes, "device to host");
}

// Device -> device (same device): ordered on the queue like a kernel.
loom_status* MemcpyD2D(void* state, int ordinal, loom_stream* stream, void* dst, const void* src,
                       size_t bytes) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  if (bytes == 0) return nullptr;
  LOOM_CL_CHECK(clEnqueueCopyBuffer(QueueOf(d, stream), static_cast<cl_mem>(const_cast<void*>(src)),
                                    static_cast<cl_mem>(dst), 0, 0, bytes, 0, nullptr, nullptr),
                "clEnqueueCopyBuffer", StrCat("(", bytes, " bytes on ", d->loom_name(), ")"));
  return nullptr;
}

loom_status* StreamCreate(void* state, int ordinal, loom_stream** out) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  LOOM_RETURN_IF_ERROR(d->EnsureContext());
  cl_int err = CL_SUCCESS;
  cl_command_queue q = clCreateCommandQueue(d->context(), d->id(), 0, &err);
  if (err != CL_SUCCESS) return ClError(err, "clCreateCommandQueue", StrCat("on ", d->loom_name()));
  *out = reinterpret_cast<loom_stream*>(new Stream{q});
  return nullptr;
}

void StreamDestroy(void* state, int ordinal, loom_stream* stream) {
  if (!stream) return;
  Stream* s = reinterpret_cast<Stream*>(stream);
  clFinish(s->queue);
  clReleaseCommandQueue(s->queue);
  delete s;
}

loom_status* EventCreate(void* state, int ordinal, loom_event** out) {
  *out = reinterpret_cast<loom_event*>(new Event);
  return nullptr;
}

void EventDestroy(void* state, int ordinal, loom_event* event) {
  if (!event) return;
  Event* e = reinterpret_cast<Event*>(event);
  if (e->event) clReleaseEvent(e->event);
  delete e;
}

// The event completes when everything enqueued on the stream so far has.
loom_status* EventRecord(void* state, int ordinal, loom_stream* stream, loom_event* event) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  LOOM_RETURN_IF_ERROR(d->EnsureContext());
  Event* e = reinterpret_cast<Event*>(event);
  cl_event ev = nullptr;
  LOOM_CL_CHECK(clEnqueueMarkerWithWaitList(QueueOf(d, stream), 0, nullptr, &ev),
                "clEnqueueMarkerWithWaitList", StrCat("on ", d->loom_name()));
  if (e->event) clReleaseEvent(e->event);
  e->event = ev;
  return nullptr;
}

loom_status* StreamWaitEvent(void* state, int ordinal, loom_stream* stream, loom_event* event) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  Event* e = reinterpret_cast<Event*>(event);
  if (!e->event) return nullptr;  // never recorded: nothing to wait for
  LOOM_RETURN_IF_ERROR(d->EnsureContext());
  LOOM_CL_CHECK(clEnqueueBarrierWithWaitList(QueueOf(d, stream), 1, &e->event, nullptr),
                "clEnqueueBarrierWithWaitList", StrCat("on ", d->loom_name()));
  return nullptr;
}

loom_status* EventSynchronize(void* state, int ordinal, loom_event* event) {
  Event* e = reinterpret_cast<Event*>(event);
  if (!e->event) return nullptr;
  LOOM_CL_CHECK(clWaitForEvents(1, &e->event), "clWaitForEvents", "(event_synchronize)");
  return nullptr;
}

// Waits for the device's queue (every kernel and NULL-stream copy).
loom_status* Synchronize(void* state, int ordinal) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  return d->Finish("synchronize");
}

loom_status* MemoryStats(void* state, int ordinal, loom_memory_stats* out) {
  ClDevice* d = Dev(ordinal);
  if (!d) return BadOrdinal(ordinal);
  if (out->struct_size >= LOOM_STRUCT_SIZE(loom_memory_stats, bytes_limit)) {
    out->bytes_in_use = d->bytes_in_use();
    out->peak_bytes_in_use = d->peak_bytes_in_use();
    out->bytes_limit = d->global_mem_size() > 0 ? d->global_mem_size() : -1;
  }
  return nullptr;
}

// ---------------------------------------------------------------- the kernel table

using loom::kit::KernelRow;  // user_data: the compute's state (see kernels.h)

constexpr uint64_t Bit(loom_dtype d) { return LOOM_DTYPE_BIT(d); }
constexpr uint64_t kF = Bit(LOOM_DTYPE_FLOAT);
constexpr uint64_t kFIL = kF | Bit(LOOM_DTYPE_INT32) | Bit(LOOM_DTYPE_INT64);
constexpr uint64_t kIdx = Bit(LOOM_DTYPE_INT32) | Bit(LOOM_DTYPE_INT64);
constexpr uint64_t kEq = kFIL | Bit(LOOM_DTYPE_BOOL);
constexpr uint64_t kCast = kFIL | Bit(LOOM_DTYPE_BOOL) | Bit(LOOM_DTYPE_UINT8) |
                           Bit(LOOM_DTYPE_INT8) | Bit(LOOM_DTYPE_INT16);
constexpr uint64_t kFill = kCast;
// Data movement only looks at element sizes.
constexpr uint64_t kAll = kCast | Bit(LOOM_DTYPE_DOUBLE) | Bit(LOOM_DTYPE_UINT16) |
                          Bit(LOOM_DTYPE_UINT32) | Bit(LOOM_DTYPE_UINT64) |
                          Bit(LOOM_DTYPE_HALF) | Bit(LOOM_DTYPE_BFLOAT16);

// Integer arithmetic is deliberately absent: in graphs it is shape
// arithmetic whose inputs and outputs live in host memory, which the CPU does
// without a round trip through the device (soft placement sends it there).
const KernelRow kKernels[] = {
    // ---- unary math (kernels_elementwise.cc, cl/elementwise.cl)
    {"Neg", UnaryKernel, {{"T", kF}}, {}, "neg"},
    {"Abs", UnaryKernel, {{"T", kF}}, {}, "abs"},
    {"Square", UnaryKernel, {{"T", kF}}, {}, "square"},
    {"Sign", UnaryKernel, {{"T", kF}}, {}, "sign"},
    {"Relu", UnaryKernel, {{"T", kF}}, {}, "relu"},
    {"Round", UnaryKernel, {{"T", kF}}, {}, "round"},
    {"Exp", UnaryKernel, {{"T", kF}}, {}, "exp"},
    {"Log", UnaryKernel, {{"T", kF}}, {}, "log"},
    {"Log1p", UnaryKernel, {{"T", kF}}, {}, "log1p"},
    {"Sqrt", UnaryKernel, {{"T", kF}}, {}, "sqrt"},
    {"Rsqrt", UnaryKernel, {{"T", kF}}, {}, "rsqrt"},
    {"Sigmoid", UnaryKernel, {{"T", kF}}, {}, "sigmoid"},
    {"Tanh", UnaryKernel, {{"T", kF}}, {}, "tanh"},
    {"Reciprocal", UnaryKernel, {{"T", kF}}, {}, "reciprocal"},
    {"Floor", UnaryKernel, {{"T", kF}}, {}, "floor"},
    {"Ceil", UnaryKernel, {{"T", kF}}, {}, "ceil"},
    {"Softplus", UnaryKernel, {{"T", kF}}, {}, "softplus"},
    {"Sin", UnaryKernel, {{"T", kF}}, {}, "sin"},
    {"Cos", UnaryKernel, {{"T", kF}}, {}, "cos"},
    {"LogicalNot", UnaryKernel, {}, {}, "logical_not"},
    // ---- binary, numpy broadcasting
    {"Add", BinaryKernel, {{"T", kF}}, {}, "add"},
    {"AddV2", BinaryKernel, {{"T", kF}}, {}, "add"},
    {"Sub", BinaryKernel, {{"T", kF}}, {}, "sub"},
    {"Mul", BinaryKernel, {{"T", kF}}, {}, "mul"},
    {"Div", BinaryKernel, {{"T", kF}}, {}, "div"},
    {"RealDiv", BinaryKernel, {{"T", kF}}, {}, "div"},
    {"Maximum", BinaryKernel, {{"T", kF}}, {}, "maximum"},
    {"Minimum", BinaryKernel, {{"T", kF}}, {}, "minimum"},
    {"SquaredDifference", BinaryKernel, {{"T", kF}}, {}, "squared_difference"},
    {"Pow", BinaryKernel, {{"T", kF}}, {}, "pow"},
    {"FloorDiv", BinaryKernel, {{"T", kF}}, {}, "floor_div"},
    {"FloorMod", BinaryKernel, {{"T", kF}}, {}, "floor_mod"},
    {"Equal", BinaryKernel, {{"T", kEq}}, {}, "equal"},
    {"NotEqual", BinaryKernel, {{"T", kEq}}, {}, "not_equal"},
    {"Less", BinaryKernel, {{"T", kFIL}}, {}, "less"},
    {"LessEqual", BinaryKernel, {{"T", kFIL}}, {}, "less_equal"},
    {"Greater", BinaryKernel, {{"T", kFIL}}, {}, "greater"},
    {"GreaterEqual", BinaryKernel, {{"T", kFIL}}, {}, "greater_equal"},
    {"LogicalAnd", BinaryKernel, {}, {}, "logical_and"},
    {"LogicalOr", BinaryKernel, {}, {}, "logical_or"},
    // ---- activation gradients (same shapes)
    {"ReluGrad", SameShapeKernel, {{"T", kF}}, {}, "relu_grad"},
    {"SigmoidGrad", SameShapeKernel, {{"T", kF}}, {}, "sigmoid_grad"},
    {"TanhGrad", SameShapeKernel, {{"T", kF}}, {}, "tanh_grad"},
    {"SqrtGrad", SameShapeKernel, {{"T", kF}}, {}, "sqrt_grad"},
    {"RsqrtGrad", SameShapeKernel, {{"T", kF}}, {}, "rsqrt_grad"},
    {"ReciprocalGrad", SameShapeKernel, {{"T", kF}}, {}, "reciprocal_grad"},
    {"SoftplusGrad", SameShapeKernel, {{"T", kF}}, {}, "softplus_grad"},
    // ---- other element-wise
    {"Cast", CastKernel, {{"SrcT", kCast}, {"DstT", kCast}}, {}},
    {"AddN", AddNKernel, {{"T", kF}}, {}},
    {"BiasAdd", BiasAddKernel, {{"T", kF}}, {}},
    {"ZerosLike", ZerosLikeKernel, {{"T", kFill}}, {}},
    {"OnesLike", OnesLikeKernel, {{"T", kFill}}, {}},
    // ---- reductions (kernels_reduce.cc, cl/reduce.cl)
    {"Sum", ReduceKernel, {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}, "sum"},
    {"Mean", ReduceKernel, {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}, "mean"},
    {"Max", ReduceKernel, {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}, "max"},
    {"Min", ReduceKernel, {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}, "min"},
    {"Prod", ReduceKernel, {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}, "prod"},
    {"ArgMax", ArgReduceKernel, {{"T", kFIL}, {"Tidx", kIdx}, {"output_type", kIdx}},
     {"dimension"}, "argmax"},
    {"ArgMin", ArgReduceKernel, {{"T", kFIL}, {"Tidx", kIdx}, {"output_type", kIdx}},
     {"dimension"}, "argmin"},
    {"L2Loss", L2LossKernel, {{"T", kF}}, {}},
    {"BiasAddGrad", BiasAddGradKernel, {{"T", kF}}, {}},
    // ---- matrix products (kernels_matmul.cc, cl/matmul.cl)
    {"MatMul", MatMulKernel, {{"T", kF}}, {}},
    {"BatchMatMul", BatchMatMulKernel, {{"T", kF}}, {}},
    {"BatchMatMulV2", BatchMatMulKernel, {{"T", kF}}, {}},
    // ---- shapes and data movement (kernels_array.cc, cl/array.cl)
    {"Reshape", loom::kit::ReshapeKernel, {{"T", kAll}, {"Tshape", kIdx}}, {"shape"}},
    {"ExpandDims", loom::kit::ExpandDimsKernel, {{"T", kAll}, {"Tdim", kIdx}}, {"dim"}},
    {"Squeeze", loom::kit::SqueezeKernel, {{"T", kAll}}, {}},
    {"Shape", loom::kit::ShapeKernel, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
    {"Size", loom::kit::SizeKernel, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
    {"Rank", loom::kit::RankKernel, {{"T", kAll}}, {"output"}},
    {"Fill", FillKernel, {{"T", kFill}, {"index_type", kIdx}}, {"dims", "value"}},
    {"BroadcastGradientArgs", loom::kit::BroadcastGradientArgsKernel, {{"T", kIdx}},
     {"s0", "s1", "r0", "r1"}},
    {"Transpose", TransposeKernel, {{"T", kAll}, {"Tperm", kIdx}}, {"perm"}},
    {"Tile", TileKernel, {{"T", kAll}, {"Tmultiples", kIdx}}, {"multiples"}},
    {"BroadcastTo", BroadcastToKernel, {{"T", kAll}, {"Tidx", kIdx}}, {"shape"}},
    // ---- neural networks (kernels_nn.cc, cl/nn.cl)
    {"Softmax", SoftmaxKernel, {{"T", kF}}, {}, "softmax"},
    {"LogSoftmax", SoftmaxKernel, {{"T", kF}}, {}, "log_softmax"},
    {"SoftmaxCrossEntropyWithLogits", XentKernel, {{"T", kF}}, {}},
    {"SparseSoftmaxCrossEntropyWithLogits", SparseXentKernel,
     {{"T", kF}, {"Tlabels", kIdx}}, {"labels"}},
    // ---- variable updates: modify input 0 in place, forward it to output 0
    {"AssignAdd", AssignUpdateKernel, {{"T", kF}}, {}, "assign_add"},
    {"AssignSub", AssignUpdateKernel, {{"T", kF}}, {}, "assign_sub"},
    {"ApplyGradientDescent", ApplyGradientDescentKernel, {{"T", kF}}, {}},
    {"ApplyMomentum", ApplyMomentumKernel, {{"T", kF}}, {}},
    {"ApplyAdam", ApplyAdamKernel, {{"T", kF}}, {}},
    {"ApplyAdagrad", ApplyAdagradKernel, {{"T", kF}}, {}},
    {"ApplyRMSProp", ApplyRMSPropKernel, {{"T", kF}}, {}},
};

// What init registers after the kit's prologue (LOOM_KIT_PLUGIN below): the
// devices the ICD loader offers and the kernel table.
loom_status* RegisterAll(const loom_host_api* host) {
  if (g_devices.empty()) {
    loom_status* s = DiscoverDevices(&g_devices);
    if (s) {
      g_devices.clear();
      return s;
    }
  }
  int priority = 50;
  if (const char* p = host->config_get("OPENCL", "PRIORITY")) priority = std::atoi(p);

  loom_device_interface dev = {};
  dev.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  dev.type = "OPENCL";
  dev.count = static_cast<int>(g_devices.size());
  dev.priority = priority;
  dev.memory_is_host = 0;
  dev.state = nullptr;  // the devices are in g_devices, by ordinal
  dev.allocate = Allocate;
  dev.deallocate = Deallocate;
  dev.allocate_host_pinned = nullptr;  // plain host memory is what PoCL uses anyway
  dev.deallocate_host_pinned = nullptr;
  dev.memcpy_host_to_device = MemcpyH2D;
  dev.memcpy_device_to_host = MemcpyD2H;
  dev.memcpy_device_to_device = MemcpyD2D;
  dev.stream_create = StreamCreate;
  dev.stream_destroy = StreamDestroy;
  dev.event_create = EventCreate;
  dev.event_destroy = EventDestroy;
  dev.event_record = EventRecord;
  dev.stream_wait_event = StreamWaitEvent;
  dev.event_synchronize = EventSynchronize;
  dev.synchronize = Synchronize;
  dev.memory_stats = MemoryStats;
  dev.ext = nullptr;
  LOOM_RETURN_IF_ERROR(host->register_device(&dev));
  for (const auto& d : g_devices) {
    host->log(LOOM_LOG_DEBUG, "opencl",
              StrCat(d->loom_name(), ": ", d->name(), ", ", d->global_mem_size() >> 20,
                     " MiB").c_str());
  }
  return loom::kit::RegisterKernels(host, "OPENCL", kKernels);
}

}  // namespace
}  // namespace loom_opencl

LOOM_KIT_PLUGIN("opencl", LOOM_VERSION_STRING, loom_opencl::RegisterAll)
