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
  LOOM_CL_RETURN_IF_ERROR(d->Allocate(bytes, &m));
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
  LOOM_CL_RETURN_IF_ERROR(d->EnsureContext());
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
  LOOM_CL_RETURN_IF_ERROR(d->EnsureContext());
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
  LOOM_CL_RETURN_IF_ERROR(d->EnsureContext());
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

struct KernelRow {
  const char* op;
  ComputeFn compute;
  const char* cl_name;                  // the compute's state (see kernels.h); may be null
  loom_type_constraint constraints[3];  // up to the first {nullptr}
  const char* host_memory[4];           // inputs/outputs kept in host memory
};

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
    {"Neg", UnaryKernel, "neg", {{"T", kF}}, {}},
    {"Abs", UnaryKernel, "abs", {{"T", kF}}, {}},
    {"Square", UnaryKernel, "square", {{"T", kF}}, {}},
    {"Sign", UnaryKernel, "sign", {{"T", kF}}, {}},
    {"Relu", UnaryKernel, "relu", {{"T", kF}}, {}},
    {"Round", UnaryKernel, "round", {{"T", kF}}, {}},
    {"Exp", UnaryKernel, "exp", {{"T", kF}}, {}},
    {"Log", UnaryKernel, "log", {{"T", kF}}, {}},
    {"Log1p", UnaryKernel, "log1p", {{"T", kF}}, {}},
    {"Sqrt", UnaryKernel, "sqrt", {{"T", kF}}, {}},
    {"Rsqrt", UnaryKernel, "rsqrt", {{"T", kF}}, {}},
    {"Sigmoid", UnaryKernel, "sigmoid", {{"T", kF}}, {}},
    {"Tanh", UnaryKernel, "tanh", {{"T", kF}}, {}},
    {"Reciprocal", UnaryKernel, "reciprocal", {{"T", kF}}, {}},
    {"Floor", UnaryKernel, "floor", {{"T", kF}}, {}},
    {"Ceil", UnaryKernel, "ceil", {{"T", kF}}, {}},
    {"Softplus", UnaryKernel, "softplus", {{"T", kF}}, {}},
    {"Sin", UnaryKernel, "sin", {{"T", kF}}, {}},
    {"Cos", UnaryKernel, "cos", {{"T", kF}}, {}},
    {"LogicalNot", UnaryKernel, "logical_not", {}, {}},
    // ---- binary, numpy broadcasting
    {"Add", BinaryKernel, "add", {{"T", kF}}, {}},
    {"AddV2", BinaryKernel, "add", {{"T", kF}}, {}},
    {"Sub", BinaryKernel, "sub", {{"T", kF}}, {}},
    {"Mul", BinaryKernel, "mul", {{"T", kF}}, {}},
    {"Div", BinaryKernel, "div", {{"T", kF}}, {}},
    {"RealDiv", BinaryKernel, "div", {{"T", kF}}, {}},
    {"Maximum", BinaryKernel, "maximum", {{"T", kF}}, {}},
    {"Minimum", BinaryKernel, "minimum", {{"T", kF}}, {}},
    {"SquaredDifference", BinaryKernel, "squared_difference", {{"T", kF}}, {}},
    {"Pow", BinaryKernel, "pow", {{"T", kF}}, {}},
    {"FloorDiv", BinaryKernel, "floor_div", {{"T", kF}}, {}},
    {"FloorMod", BinaryKernel, "floor_mod", {{"T", kF}}, {}},
    {"Equal", BinaryKernel, "equal", {{"T", kEq}}, {}},
    {"NotEqual", BinaryKernel, "not_equal", {{"T", kEq}}, {}},
    {"Less", BinaryKernel, "less", {{"T", kFIL}}, {}},
    {"LessEqual", BinaryKernel, "less_equal", {{"T", kFIL}}, {}},
    {"Greater", BinaryKernel, "greater", {{"T", kFIL}}, {}},
    {"GreaterEqual", BinaryKernel, "greater_equal", {{"T", kFIL}}, {}},
    {"LogicalAnd", BinaryKernel, "logical_and", {}, {}},
    {"LogicalOr", BinaryKernel, "logical_or", {}, {}},
    // ---- activation gradients (same shapes)
    {"ReluGrad", SameShapeKernel, "relu_grad", {{"T", kF}}, {}},
    {"SigmoidGrad", SameShapeKernel, "sigmoid_grad", {{"T", kF}}, {}},
    {"TanhGrad", SameShapeKernel, "tanh_grad", {{"T", kF}}, {}},
    {"SqrtGrad", SameShapeKernel, "sqrt_grad", {{"T", kF}}, {}},
    {"RsqrtGrad", SameShapeKernel, "rsqrt_grad", {{"T", kF}}, {}},
    {"ReciprocalGrad", SameShapeKernel, "reciprocal_grad", {{"T", kF}}, {}},
    {"SoftplusGrad", SameShapeKernel, "softplus_grad", {{"T", kF}}, {}},
    // ---- other element-wise
    {"Cast", CastKernel, nullptr, {{"SrcT", kCast}, {"DstT", kCast}}, {}},
    {"AddN", AddNKernel, nullptr, {{"T", kF}}, {}},
    {"BiasAdd", BiasAddKernel, nullptr, {{"T", kF}}, {}},
    {"ZerosLike", ZerosLikeKernel, nullptr, {{"T", kFill}}, {}},
    {"OnesLike", OnesLikeKernel, nullptr, {{"T", kFill}}, {}},
    // ---- reductions (kernels_reduce.cc, cl/reduce.cl)
    {"Sum", ReduceKernel, "sum", {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Mean", ReduceKernel, "mean", {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Max", ReduceKernel, "max", {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Min", ReduceKernel, "min", {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"Prod", ReduceKernel, "prod", {{"T", kF}, {"Tidx", kIdx}}, {"reduction_indices"}},
    {"ArgMax", ArgReduceKernel, "argmax", {{"T", kFIL}, {"Tidx", kIdx}, {"output_type", kIdx}},
     {"dimension"}},
    {"ArgMin", ArgReduceKernel, "argmin", {{"T", kFIL}, {"Tidx", kIdx}, {"output_type", kIdx}},
     {"dimension"}},
    {"L2Loss", L2LossKernel, nullptr, {{"T", kF}}, {}},
    {"BiasAddGrad", BiasAddGradKernel, nullptr, {{"T", kF}}, {}},
    // ---- matrix products (kernels_matmul.cc, cl/matmul.cl)
    {"MatMul", MatMulKernel, nullptr, {{"T", kF}}, {}},
    {"BatchMatMul", BatchMatMulKernel, nullptr, {{"T", kF}}, {}},
    {"BatchMatMulV2", BatchMatMulKernel, nullptr, {{"T", kF}}, {}},
    // ---- shapes and data movement (kernels_array.cc, cl/array.cl)
    {"Reshape", ReshapeKernel, nullptr, {{"T", kAll}, {"Tshape", kIdx}}, {"shape"}},
    {"ExpandDims", ExpandDimsKernel, nullptr, {{"T", kAll}, {"Tdim", kIdx}}, {"dim"}},
    {"Squeeze", SqueezeKernel, nullptr, {{"T", kAll}}, {}},
    {"Shape", ShapeKernel, nullptr, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
    {"Size", SizeKernel, nullptr, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
    {"Rank", RankKernel, nullptr, {{"T", kAll}}, {"output"}},
    {"Fill", FillKernel, nullptr, {{"T", kFill}, {"index_type", kIdx}}, {"dims", "value"}},
    {"BroadcastGradientArgs", BroadcastGradientArgsKernel, nullptr, {{"T", kIdx}},
     {"s0", "s1", "r0", "r1"}},
    {"Transpose", TransposeKernel, nullptr, {{"T", kAll}, {"Tperm", kIdx}}, {"perm"}},
    {"Tile", TileKernel, nullptr, {{"T", kAll}, {"Tmultiples", kIdx}}, {"multiples"}},
    {"BroadcastTo", BroadcastToKernel, nullptr, {{"T", kAll}, {"Tidx", kIdx}}, {"shape"}},
    // ---- neural networks (kernels_nn.cc, cl/nn.cl)
    {"Softmax", SoftmaxKernel, "softmax", {{"T", kF}}, {}},
    {"LogSoftmax", SoftmaxKernel, "log_softmax", {{"T", kF}}, {}},
    {"SoftmaxCrossEntropyWithLogits", XentKernel, nullptr, {{"T", kF}}, {}},
    {"SparseSoftmaxCrossEntropyWithLogits", SparseXentKernel, nullptr,
     {{"T", kF}, {"Tlabels", kIdx}}, {"labels"}},
    // ---- variable updates: modify input 0 in place, forward it to output 0
    {"AssignAdd", AssignUpdateKernel, "assign_add", {{"T", kF}}, {}},
    {"AssignSub", AssignUpdateKernel, "assign_sub", {{"T", kF}}, {}},
    {"ApplyGradientDescent", ApplyGradientDescentKernel, nullptr, {{"T", kF}}, {}},
    {"ApplyMomentum", ApplyMomentumKernel, nullptr, {{"T", kF}}, {}},
    {"ApplyAdam", ApplyAdamKernel, nullptr, {{"T", kF}}, {}},
    {"ApplyAdagrad", ApplyAdagradKernel, nullptr, {{"T", kF}}, {}},
    {"ApplyRMSProp", ApplyRMSPropKernel, nullptr, {{"T", kF}}, {}},
};

loom_status* RegisterKernels(const loom_host_api* host) {
  for (const KernelRow& row : kKernels) {
    int nc = 0, nh = 0;
    while (nc < 3 && row.constraints[nc].attr != nullptr) ++nc;
    while (nh < 4 && row.host_memory[nh] != nullptr) ++nh;
    loom_kernel_def def = {};
    def.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
    def.op_type = row.op;
    def.device_type = "OPENCL";
    def.constraints = nc ? row.constraints : nullptr;
    def.num_constraints = nc;
    def.host_memory_args = nh ? row.host_memory : nullptr;
    def.num_host_memory_args = nh;
    def.priority = 0;
    def.user_data = const_cast<char*>(row.cl_name);
    def.create = nullptr;  // state = user_data: the OpenCL kernel's base name
    def.compute = row.compute;
    def.compute_async = nullptr;
    def.destroy = nullptr;
    def.ext = nullptr;
    LOOM_CL_RETURN_IF_ERROR(host->register_kernel(&def));
  }
  return nullptr;
}

}  // namespace
}  // namespace loom_opencl

extern "C" LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host,
                                                            loom_plugin_info* out_info) {
  using namespace loom_opencl;
  out_info->struct_size = LOOM_PLUGIN_INFO_STRUCT_SIZE;
  out_info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  out_info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  out_info->name = "opencl";
  out_info->version = LOOM_VERSION_STRING;
  out_info->ext = nullptr;
  if (host->abi_major != LOOM_PLUGIN_ABI_MAJOR) {
    return host->status_new(
        LOOM_CODE_FAILED_PRECONDITION,
        StrCat("opencl plugin built for plugin ABI ", LOOM_PLUGIN_ABI_MAJOR, ".",
               LOOM_PLUGIN_ABI_MINOR, ", host has ", host->abi_major, ".", host->abi_minor)
            .c_str());
  }
  if (host->struct_size < LOOM_STRUCT_SIZE(loom_host_api, kernel_num_threads)) {
    return host->status_new(LOOM_CODE_FAILED_PRECONDITION,
                            "opencl plugin: the host function table lacks kernel functions");
  }
  g_host = host;
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
  LOOM_CL_RETURN_IF_ERROR(host->register_device(&dev));
  for (const auto& d : g_devices) {
    host->log(LOOM_LOG_DEBUG, "opencl",
              StrCat(d->loom_name(), ": ", d->name(), ", ", d->global_mem_size() >> 20,
                     " MiB").c_str());
  }
  return RegisterKernels(host);
}
