// The host function table: how plugins reach the core. Every entry converts
// between the C ABI and the core's types and never lets an exception or a
// NULL dereference cross the boundary.
#include "runtime/plugin/host_api.h"
#include "runtime/plugin/c_gradient.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "loom/loom.h"
#include "runtime/core/c_status.h"
#include "runtime/core/logging.h"
#include "runtime/exec/kernel_context.h"
#include "runtime/exec/thread_pool.h"
#include "runtime/ops/shape_inference.h"

namespace loom {

namespace {

const Tensor& T(const loom_tensor* t) { return t->t; }
const AttrMap& A(const loom_attrs* a) { return a->map; }
const loom_attrs* CAttrs(const AttrMap& m) { return reinterpret_cast<const loom_attrs*>(&m); }

// ---- registration helpers

void RecordError(Status s) {
  PendingPlugin* p = CurrentPendingPlugin();
  if (p && p->first_error.ok()) p->first_error = s;
}

loom_status* NotDuringInit(const char* what) {
  return ToCStatus(FailedPrecondition(what, " may only be called during loom_plugin_init"));
}

// Copies a plugin struct of possibly older (smaller) size into a full one.
template <typename S>
std::unique_ptr<S> CopyVersioned(const S* in) {
  auto out = std::make_unique<S>();
  std::memset(out.get(), 0, sizeof(S));
  size_t n = in->struct_size < sizeof(S) ? in->struct_size : sizeof(S);
  std::memcpy(out.get(), in, n);
  out->struct_size = sizeof(S);
  return out;
}

loom_status* UnimplementedStatus(const char* what) {
  return ToCStatus(Unimplemented("device plugin does not implement ", what));
}
loom_status* StubAllocPinned(void*, int, size_t, void**) { return UnimplementedStatus("allocate_host_pinned"); }
void StubDeallocPinned(void*, int, void*) {}
loom_status* StubStreamCreate(void*, int, loom_stream** out) {
  *out = nullptr;  // a synchronous device: the NULL stream
  return nullptr;
}
void StubStreamDestroy(void*, int, loom_stream*) {}
loom_status* StubEventCreate(void*, int, loom_event** out) {
  *out = nullptr;
  return nullptr;
}
void StubEventDestroy(void*, int, loom_event*) {}
loom_status* StubEventRecord(void*, int, loom_stream*, loom_event*) { return nullptr; }
loom_status* StubStreamWait(void*, int, loom_stream*, loom_event*) { return nullptr; }
loom_status* StubEventSync(void*, int, loom_event*) { return nullptr; }
loom_status* StubSynchronize(void*, int) { return nullptr; }
loom_status* StubMemoryStats(void*, int, loom_memory_stats*) { return UnimplementedStatus("memory_stats"); }
loom_status* StubCopy(void*, int, loom_stream*, void*, const void*, size_t) {
  return UnimplementedStatus("memcpy");
}

bool ValidDeviceType(const char* t) {
  if (!t || !*t) return false;
  for (const char* p = t; *p; ++p)
    if (!(isupper(static_cast<unsigned char>(*p)) || isdigit(static_cast<unsigned char>(*p)) || *p == '_'))
      return false;
  return true;
}

loom_status* RegisterDevice(const loom_device_interface* d) {
  PendingPlugin* p = CurrentPendingPlugin();
  if (!p) return NotDuringInit("register_device");
  Status s;
  if (!d || d->struct_size < LOOM_STRUCT_SIZE(loom_device_interface, deallocate)) {
    s = InvalidArgument("register_device: the loom_device_interface is NULL or too small (struct_size ",
                        d ? d->struct_size : 0, ")");
  } else if (!ValidDeviceType(d->type)) {
    s = InvalidArgument("register_device: device type '", d->type ? d->type : "(null)",
                        "' must be non-empty and use only [A-Z0-9_]");
  } else if (d->count < 1) {
    s = InvalidArgument("register_device: device type ", d->type, " has count ", d->count, " (need >= 1)");
  } else if (!d->allocate) {
    s = InvalidArgument("device type ", d->type, " lacks required function 'allocate'");
  } else if (!d->deallocate) {
    s = InvalidArgument("device type ", d->type, " lacks required function 'deallocate'");
  }
  auto full = s.ok() ? CopyVersioned(d) : nullptr;
  if (full && !full->memory_is_host) {
    const char* missing = !full->memcpy_host_to_device ? "memcpy_host_to_device"
                          : !full->memcpy_device_to_host ? "memcpy_device_to_host"
                          : !full->memcpy_device_to_device ? "memcpy_device_to_device" : nullptr;
    if (missing)
      s = InvalidArgument("device type ", d->type, " (memory_is_host=0) lacks required function '",
                          missing, "'");
  }
  if (!s.ok()) {
    RecordError(s);
    return ToCStatus(s);
  }
  for (const auto& other : p->devices)
    if (std::strcmp(other->type, full->type) == 0) {
      s = AlreadyExists("device type ", full->type, " registered twice by one plugin");
      RecordError(s);
      return ToCStatus(s);
    }
  // Keep our own copy of the type name (the plugin's may be static, but be safe).
  static std::mutex names_mu;
  static std::vector<std::unique_ptr<std::string>> names;
  {
    std::lock_guard<std::mutex> l(names_mu);
    names.push_back(std::make_unique<std::string>(full->type));
    full->type = names.back()->c_str();
  }
  if (!full->allocate_host_pinned) full->allocate_host_pinned = StubAllocPinned;
  if (!full->deallocate_host_pinned) full->deallocate_host_pinned = StubDeallocPinned;
  if (!full->memcpy_host_to_device) full->memcpy_host_to_device = StubCopy;
  if (!full->memcpy_device_to_host) full->memcpy_device_to_host = StubCopy;
  if (!full->memcpy_device_to_device) full->memcpy_device_to_device = StubCopy;
  if (!full->stream_create) full->stream_create = StubStreamCreate;
  if (!full->stream_destroy) full->stream_destroy = StubStreamDestroy;
  if (!full->event_create) full->event_create = StubEventCreate;
  if (!full->event_destroy) full->event_destroy = StubEventDestroy;
  if (!full->event_record) full->event_record = StubEventRecord;
  if (!full->stream_wait_event) full->stream_wait_event = StubStreamWait;
  if (!full->event_synchronize) full->event_synchronize = StubEventSync;
  if (!full->synchronize) full->synchronize = StubSynchronize;
  if (!full->memory_stats) full->memory_stats = StubMemoryStats;
  p->devices.push_back(std::move(full));
  return nullptr;
}

struct CShapeFn {
  loom_shape_fn fn;
  void* user;
};

loom_status* RegisterOp(const loom_op_def* def) {
  PendingPlugin* p = CurrentPendingPlugin();
  if (!p) return NotDuringInit("register_op");
  Status s;
  if (!def || def->struct_size < LOOM_STRUCT_SIZE(loom_op_def, is_stateful) || !def->name || !*def->name) {
    s = InvalidArgument("register_op: loom_op_def is NULL, too small, or has no name");
    RecordError(s);
    return ToCStatus(s);
  }
  OpDefBuilder b(def->name);
  for (int i = 0; i < def->num_inputs; ++i) b.Input(def->inputs[i] ? def->inputs[i] : "");
  for (int i = 0; i < def->num_outputs; ++i) b.Output(def->outputs[i] ? def->outputs[i] : "");
  for (int i = 0; i < def->num_attrs; ++i) b.Attr(def->attrs[i] ? def->attrs[i] : "");
  if (def->is_stateful) b.SetIsStateful();
  if (def->struct_size >= LOOM_STRUCT_SIZE(loom_op_def, shape_fn_user_data) && def->shape_fn) {
    CShapeFn c{def->shape_fn, def->shape_fn_user_data};
    b.SetShapeFn([c](InferenceContext& ctx) -> Status {
      loom_shape_context sc{&ctx, nullptr};
      return TakeStatus(c.fn(c.user, &sc));
    });
  }
  OpDef built;
  s = b.Build(&built);
  if (s.ok() && OpRegistry::Global()->Find(def->name))
    s = AlreadyExists("op ", def->name, " is already registered");
  for (const auto& o : p->ops)
    if (s.ok() && o.name == def->name) s = AlreadyExists("op ", def->name, " registered twice");
  if (!s.ok()) {
    RecordError(s);
    return ToCStatus(s);
  }
  p->ops.push_back(std::move(built));
  return nullptr;
}

loom_status* RegisterKernel(const loom_kernel_def* k) {
  PendingPlugin* p = CurrentPendingPlugin();
  if (!p) return NotDuringInit("register_kernel");
  Status s;
  if (!k || k->struct_size < LOOM_STRUCT_SIZE(loom_kernel_def, compute) || !k->op_type || !k->device_type) {
    s = InvalidArgument("register_kernel: loom_kernel_def is NULL, too small, or lacks op_type/device_type");
    RecordError(s);
    return ToCStatus(s);
  }
  auto full = CopyVersioned(k);
  std::string who = StrCat("kernel for op ", k->op_type, " on ", k->device_type);
  if (!full->compute && !full->compute_async) {
    s = InvalidArgument(who, " lacks required function 'compute' (or 'compute_async')");
  } else {
    bool op_known = OpRegistry::Global()->Find(k->op_type) != nullptr;
    for (const auto& o : p->ops) op_known = op_known || o.name == k->op_type;
    if (!op_known) {
      // A plugin built for a newer runtime may carry kernels for ops this one
      // lacks: refuse the kernel, not the plugin (the plugin sees NOT_FOUND and
      // decides; its init failing still refuses it).
      s = NotFound(who, ": op ", k->op_type, " is not registered in this runtime (loom ", loom_version(),
                   "); kernel skipped");
      LogMessage(LOOM_LOG_WARNING, "plugin", s.message());
      return ToCStatus(s);
    }
    bool dev_known = false;
    for (const auto& d : p->devices) dev_known = dev_known || std::strcmp(d->type, k->device_type) == 0;
    for (Device* d : Registry::Get()->devices()) dev_known = dev_known || d->type == k->device_type;
    if (s.ok() && !dev_known) s = NotFound(who, ": device type ", k->device_type, " is not registered");
  }
  if (!s.ok()) {
    RecordError(s);
    return ToCStatus(s);
  }
  auto kd = std::make_unique<KernelDef>();
  kd->op_type = k->op_type;
  kd->device_type = k->device_type;
  for (int i = 0; i < full->num_constraints; ++i)
    if (full->constraints[i].attr) kd->constraints.emplace_back(full->constraints[i].attr, full->constraints[i].dtypes);
  for (int i = 0; i < full->num_host_memory_args; ++i)
    if (full->host_memory_args[i]) kd->host_memory_args.emplace_back(full->host_memory_args[i]);
  kd->priority = full->priority;
  kd->user_data = full->user_data;
  kd->create = full->create;
  kd->compute = full->compute;
  kd->compute_async = full->compute_async;
  kd->destroy = full->destroy;
  p->kernels.push_back(std::move(kd));
  return nullptr;
}


// ---- status, config, log

loom_status* StatusNew(loom_code code, const char* msg) { return loom_status_new(code, msg); }
void StatusFree(loom_status* s) { loom_status_free(s); }
loom_code StatusCode(const loom_status* s) { return loom_status_code(s); }
const char* StatusMessage(const loom_status* s) { return loom_status_message(s); }
void Log(loom_log_level level, const char* who, const char* msg) { LogMessage(level, who, msg ? msg : ""); }

const char* ConfigGet(const char* plugin, const char* key) {
  if (!plugin || !key) return nullptr;
  std::string var = StrCat("LOOM_PLUGIN_CONFIG_", plugin, "_", key);
  for (auto& c : var) c = static_cast<char>(isalnum(static_cast<unsigned char>(c)) ? toupper(c) : '_');
  return std::getenv(var.c_str());
}

// ---- tensors

loom_dtype TensorDtype(const loom_tensor* t) { return t ? T(t).dtype() : LOOM_DTYPE_INVALID; }
int TensorNumDims(const loom_tensor* t) { return t ? T(t).rank() : 0; }
const int64_t* TensorDims(const loom_tensor* t) { return t ? T(t).shape().dims().data() : nullptr; }
int64_t TensorNumElements(const loom_tensor* t) { return t ? T(t).num_elements() : 0; }
size_t TensorByteSize(const loom_tensor* t) { return t ? T(t).byte_size() : 0; }
void* TensorData(const loom_tensor* t) { return t ? T(t).data() : nullptr; }

// ---- attrs

loom_status* AttrInt(const loom_attrs* a, const char* n, int64_t* out) { return ToCStatus(A(a).GetInt(n, out)); }
loom_status* AttrFloat(const loom_attrs* a, const char* n, float* out) { return ToCStatus(A(a).GetFloat(n, out)); }
loom_status* AttrBool(const loom_attrs* a, const char* n, int* out) {
  bool b = false;
  Status s = A(a).GetBool(n, &b);
  if (s.ok()) *out = b ? 1 : 0;
  return ToCStatus(s);
}
loom_status* AttrType(const loom_attrs* a, const char* n, loom_dtype* out) { return ToCStatus(A(a).GetType(n, out)); }
loom_status* AttrIntList(const loom_attrs* a, const char* n, const int64_t** out, int* num) {
  const AttrValue* v = A(a).Find(n);
  if (!v) return ToCStatus(NotFound("no attr named '", n, "'"));
  if (v->kind() != AttrValue::kIntList) return ToCStatus(InvalidArgument("attr '", n, "' is not list(int)"));
  *out = v->ilist().data();
  *num = static_cast<int>(v->ilist().size());
  return nullptr;
}
loom_status* AttrFloatList(const loom_attrs* a, const char* n, const float** out, int* num) {
  const AttrValue* v = A(a).Find(n);
  if (!v) return ToCStatus(NotFound("no attr named '", n, "'"));
  if (v->kind() == AttrValue::kIntList && v->ilist().empty()) {
    *out = nullptr;
    *num = 0;
    return nullptr;
  }
  if (v->kind() != AttrValue::kFloatList) return ToCStatus(InvalidArgument("attr '", n, "' is not list(float)"));
  *out = v->flist().data();
  *num = static_cast<int>(v->flist().size());
  return nullptr;
}
loom_status* AttrString(const loom_attrs* a, const char* n, const char** out, size_t* len) {
  const AttrValue* v = A(a).Find(n);
  if (!v) return ToCStatus(NotFound("no attr named '", n, "'"));
  if (v->kind() != AttrValue::kString) return ToCStatus(InvalidArgument("attr '", n, "' is not a string"));
  *out = v->s().c_str();
  if (len) *len = v->s().size();
  return nullptr;
}
loom_status* AttrShape(const loom_attrs* a, const char* n, const int64_t** dims, int* num) {
  const AttrValue* v = A(a).Find(n);
  if (!v) return ToCStatus(NotFound("no attr named '", n, "'"));
  if (v->kind() != AttrValue::kShape) return ToCStatus(InvalidArgument("attr '", n, "' is not a shape"));
  *dims = v->shape().dims().data();
  *num = v->shape().rank();
  return nullptr;
}
loom_status* AttrTensor(const loom_attrs* a, const char* n, const loom_tensor** out) {
  const Tensor* t = nullptr;
  Status s = A(a).GetTensor(n, &t);
  if (s.ok()) *out = reinterpret_cast<const loom_tensor*>(t);
  return ToCStatus(s);
}

// ---- kernel construction

const loom_attrs* CAttrs(loom_kernel_construction* c) { return c->node->c_attrs(); }
const char* CName(loom_kernel_construction* c) { return c->node->name().c_str(); }
loom_dtype CInputDtype(loom_kernel_construction* c, int i) {
  return i >= 0 && i < c->node->num_inputs() ? c->node->input_dtype(i) : LOOM_DTYPE_INVALID;
}
loom_dtype COutputDtype(loom_kernel_construction* c, int i) {
  return i >= 0 && i < c->node->num_outputs() ? c->node->output_dtype(i) : LOOM_DTYPE_INVALID;
}
int CNumInputs(loom_kernel_construction* c) { return c->node->num_inputs(); }

// ---- kernel execution

const loom_attrs* KAttrs(loom_kernel_context* c) { return c->node->c_attrs(); }
const char* KName(loom_kernel_context* c) { return c->node->name().c_str(); }
int KOrdinal(loom_kernel_context* c) { return c->device ? c->device->ordinal : 0; }
loom_stream* KStream(loom_kernel_context*) { return nullptr; }
uint64_t KStep(loom_kernel_context* c) { return c->step_id; }
int KNumInputs(loom_kernel_context* c) { return c->num_inputs; }
const loom_tensor* KInput(loom_kernel_context* c, int i) {
  return i >= 0 && i < c->num_inputs ? &c->inputs[i] : nullptr;
}
int KNumOutputs(loom_kernel_context* c) { return c->num_outputs; }
loom_dtype KOutputDtype(loom_kernel_context* c, int i) {
  return i >= 0 && i < c->num_outputs ? c->node->output_dtype(i) : LOOM_DTYPE_INVALID;
}

Status MakeShape(const int64_t* dims, int n, TensorShape* out) {
  if (n < 0 || (n > 0 && !dims)) return InvalidArgument("invalid shape (rank ", n, ")");
  std::vector<int64_t> d(dims, dims + n);
  for (int64_t x : d)
    if (x < 0) return InvalidArgument("negative dimension in output shape");
  *out = TensorShape(std::move(d));
  return Status::OK();
}

Status AllocateOn(loom_kernel_context* c, DataType dt, const TensorShape& shape, Tensor* out) {
  if (!c->device || c->device->memory_is_host) return Tensor::Allocate(dt, shape, out);
  if (!DataTypeIsValid(dt)) return InvalidArgument("cannot allocate dtype ", DataTypeName(dt));
  std::shared_ptr<Buffer> buf;
  RETURN_IF_ERROR(c->device->Allocate(static_cast<size_t>(shape.num_elements()) * DataTypeSize(dt), &buf));
  *out = Tensor(dt, shape, std::move(buf));
  return Status::OK();
}

loom_status* KAllocateOutput(loom_kernel_context* c, int i, const int64_t* dims, int n, loom_tensor** out) {
  if (i < 0 || i >= c->num_outputs)
    return ToCStatus(InvalidArgument("allocate_output: output ", i, " out of range (", c->num_outputs, " outputs)"));
  TensorShape shape;
  Status s = MakeShape(dims, n, &shape);
  if (s.ok()) {
    if (c->output_on_host && c->output_on_host[i])
      s = Tensor::Allocate(c->node->output_dtype(i), shape, &c->outputs[i].t);
    else
      s = AllocateOn(c, c->node->output_dtype(i), shape, &c->outputs[i].t);
  }
  if (s.ok() && out) *out = &c->outputs[i];
  return ToCStatus(s);
}

loom_status* KForwardOrAllocate(loom_kernel_context* c, const int* cand, int ncand, int o,
                                const int64_t* dims, int n, loom_tensor** out) {
  if (o < 0 || o >= c->num_outputs)
    return ToCStatus(InvalidArgument("forward_input_or_allocate_output: output ", o, " out of range"));
  TensorShape shape;
  Status s = MakeShape(dims, n, &shape);
  if (!s.ok()) return ToCStatus(s);
  DataType dt = c->node->output_dtype(o);
  size_t bytes = static_cast<size_t>(shape.num_elements()) * DataTypeSize(dt);
  for (int k = 0; k < ncand; ++k) {
    int i = cand[k];
    if (i < 0 || i >= c->num_inputs || c->node->input_is_ref(i)) continue;
    const Tensor& in = c->inputs[i].t;
    if (!in.valid() || in.dtype() != dt || in.byte_size() != bytes || in.buffer().use_count() != 1) continue;
    c->outputs[o].t = Tensor(dt, shape, in.buffer());
    if (out) *out = &c->outputs[o];
    return nullptr;
  }
  return KAllocateOutput(c, o, dims, n, out);
}

loom_status* KForwardInput(loom_kernel_context* c, int i, int o, const int64_t* dims, int n) {
  if (i < 0 || i >= c->num_inputs || o < 0 || o >= c->num_outputs)
    return ToCStatus(InvalidArgument("forward_input: input ", i, " or output ", o, " out of range"));
  TensorShape shape;
  Status s = MakeShape(dims, n, &shape);
  if (!s.ok()) return ToCStatus(s);
  const Tensor& in = c->inputs[i].t;
  DataType dt = c->node->output_dtype(o);
  if (static_cast<size_t>(shape.num_elements()) * DataTypeSize(dt) != in.byte_size())
    return ToCStatus(InvalidArgument("forward_input: output shape ", shape.ToString(), " of ",
                                     DataTypeName(dt), " does not match input ", i, " of ",
                                     in.byte_size(), " bytes"));
  c->outputs[o].t = Tensor(dt, shape, in.buffer());
  return nullptr;
}

loom_status* KAllocateTemp(loom_kernel_context* c, loom_dtype dt, const int64_t* dims, int n, loom_tensor** out) {
  TensorShape shape;
  Status s = MakeShape(dims, n, &shape);
  auto t = std::make_unique<loom_tensor>();
  if (s.ok()) s = AllocateOn(c, dt, shape, &t->t);
  if (!s.ok()) return ToCStatus(s);
  *out = t.get();
  c->temps.push_back(std::move(t));
  return nullptr;
}

void KParallelFor(loom_kernel_context* c, int64_t n, int64_t cost, loom_parallel_fn fn, void* arg) {
  if (!c->pool || c->num_threads <= 1) {
    if (n > 0) fn(arg, 0, n);
    return;
  }
  c->pool->ParallelFor(n, cost, c->num_threads, [fn, arg](int64_t b, int64_t e) { fn(arg, b, e); });
}
int KNumThreads(loom_kernel_context* c) { return c->num_threads; }

// ---- shape inference

const loom_attrs* SAttrs(loom_shape_context* c) { return CAttrs(c->ctx->attrs()); }
int SNumInputs(loom_shape_context* c) { return c->ctx->num_inputs(); }
int SNumOutputs(loom_shape_context* c) { return c->ctx->num_outputs(); }
int SInputRank(loom_shape_context* c, int i) {
  return i >= 0 && i < c->ctx->num_inputs() ? c->ctx->input(i).rank() : -1;
}
int64_t SInputDim(loom_shape_context* c, int i, int d) {
  if (i < 0 || i >= c->ctx->num_inputs()) return -1;
  const PartialShape& s = c->ctx->input(i);
  return d >= 0 && d < s.rank() ? s.dim(d) : -1;
}
loom_dtype SInputDtype(loom_shape_context* c, int i) {
  return i >= 0 && i < c->ctx->num_inputs() ? c->ctx->input_dtype(i) : LOOM_DTYPE_INVALID;
}
const loom_tensor* SInputValue(loom_shape_context* c, int i) {
  if (i < 0 || i >= c->ctx->num_inputs()) return nullptr;
  return reinterpret_cast<const loom_tensor*>(c->ctx->input_tensor(i));
}
loom_status* SSetOutput(loom_shape_context* c, int i, const int64_t* dims, int n) {
  if (i < 0 || i >= c->ctx->num_outputs())
    return ToCStatus(InvalidArgument("shape_set_output: output ", i, " out of range"));
  if (n < 0) {
    c->ctx->set_output(i, PartialShape::Unknown());
  } else {
    std::vector<int64_t> d(dims, dims + n);
    for (auto& x : d) if (x < -1) x = -1;
    c->ctx->set_output(i, PartialShape(std::move(d)));
  }
  return nullptr;
}

// ---- graph building for gradient functions: the loom.h functions themselves.

const loom_graph_api* GraphApi() {
  static const loom_graph_api api = [] {
    loom_graph_api g;
    std::memset(&g, 0, sizeof(g));
    g.struct_size = LOOM_GRAPH_API_STRUCT_SIZE;
    g.op_builder_new = loom_op_builder_new;
    g.op_builder_add_input = loom_op_builder_add_input;
    g.op_builder_add_input_list = loom_op_builder_add_input_list;
    g.op_builder_add_control_input = loom_op_builder_add_control_input;
    g.op_builder_set_device = loom_op_builder_set_device;
    g.op_builder_set_attr_int = loom_op_builder_set_attr_int;
    g.op_builder_set_attr_float = loom_op_builder_set_attr_float;
    g.op_builder_set_attr_bool = loom_op_builder_set_attr_bool;
    g.op_builder_set_attr_type = loom_op_builder_set_attr_type;
    g.op_builder_set_attr_shape = loom_op_builder_set_attr_shape;
    g.op_builder_set_attr_int_list = loom_op_builder_set_attr_int_list;
    g.op_builder_set_attr_float_list = loom_op_builder_set_attr_float_list;
    g.op_builder_set_attr_tensor = loom_op_builder_set_attr_tensor;
    g.op_builder_finish = loom_op_builder_finish;
    g.op_builder_abandon = loom_op_builder_abandon;
    g.op_name = loom_op_name;
    g.op_type = loom_op_type;
    g.op_num_inputs = loom_op_num_inputs;
    g.op_input = loom_op_input;
    g.op_num_outputs = loom_op_num_outputs;
    g.op_output_dtype = loom_op_output_dtype;
    g.op_attr_int = loom_op_attr_int;
    g.op_attr_float = loom_op_attr_float;
    g.op_attr_bool = loom_op_attr_bool;
    g.op_attr_type = loom_op_attr_type;
    g.output_shape = loom_graph_output_shape;
    g.tensor_new = loom_tensor_new;
    g.tensor_free = loom_tensor_free;
    return g;
  }();
  return &api;
}

loom_status* RegisterGradientHost(const char* op_type, loom_plugin_gradient_fn fn, void* user) {
  PendingPlugin* p = CurrentPendingPlugin();
  if (!p) return NotDuringInit("register_gradient");
  if (!op_type || !*op_type) {
    Status s = InvalidArgument("register_gradient: op_type is empty");
    RecordError(s);
    return ToCStatus(s);
  }
  p->grads.emplace_back(op_type, MakeCGradFn(fn, user));
  return nullptr;
}

}  // namespace

const loom_host_api* MakeHostApi(const PluginRecord* plugin) {
  auto* h = new loom_host_api;
  std::memset(h, 0, sizeof(*h));
  h->struct_size = LOOM_HOST_API_STRUCT_SIZE;
  h->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  h->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  h->plugin_path = plugin->path.c_str();
  h->config_get = ConfigGet;
  h->status_new = StatusNew;
  h->status_free = StatusFree;
  h->status_code = StatusCode;
  h->status_message = StatusMessage;
  h->log = Log;
  h->register_device = RegisterDevice;
  h->register_op = RegisterOp;
  h->register_kernel = RegisterKernel;
  h->register_gradient = RegisterGradientHost;
  h->tensor_dtype = TensorDtype;
  h->tensor_num_dims = TensorNumDims;
  h->tensor_dims = TensorDims;
  h->tensor_num_elements = TensorNumElements;
  h->tensor_byte_size = TensorByteSize;
  h->tensor_data = TensorData;
  h->attr_int = AttrInt;
  h->attr_float = AttrFloat;
  h->attr_bool = AttrBool;
  h->attr_type = AttrType;
  h->attr_int_list = AttrIntList;
  h->attr_float_list = AttrFloatList;
  h->attr_string = AttrString;
  h->attr_shape = AttrShape;
  h->attr_tensor = AttrTensor;
  h->construction_attrs = CAttrs;
  h->construction_op_name = CName;
  h->construction_input_dtype = CInputDtype;
  h->construction_output_dtype = COutputDtype;
  h->construction_num_inputs = CNumInputs;
  h->kernel_attrs = KAttrs;
  h->kernel_op_name = KName;
  h->kernel_device_ordinal = KOrdinal;
  h->kernel_stream = KStream;
  h->kernel_step_id = KStep;
  h->kernel_num_inputs = KNumInputs;
  h->kernel_input = KInput;
  h->kernel_num_outputs = KNumOutputs;
  h->kernel_output_dtype = KOutputDtype;
  h->kernel_allocate_output = KAllocateOutput;
  h->kernel_forward_input_or_allocate_output = KForwardOrAllocate;
  h->kernel_forward_input = KForwardInput;
  h->kernel_allocate_temp = KAllocateTemp;
  h->kernel_parallel_for = KParallelFor;
  h->kernel_num_threads = KNumThreads;
  h->shape_attrs = SAttrs;
  h->shape_num_inputs = SNumInputs;
  h->shape_num_outputs = SNumOutputs;
  h->shape_input_rank = SInputRank;
  h->shape_input_dim = SInputDim;
  h->shape_input_dtype = SInputDtype;
  h->shape_input_value = SInputValue;
  h->shape_set_output = SSetOutput;
  h->graph = GraphApi();
  return h;
}

}  // namespace loom
