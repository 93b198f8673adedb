// The C API: conversions and status only; all behaviour lives in runtime/.
#include "loom/loom.h"

#include "loom/loom_plugin.h"
#include "loom/loom_version.h"

#include <cstddef>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "capi/src/c_api_internal.h"
#include "runtime/autodiff/gradients.h"
#include "runtime/core/c_status.h"
#include "runtime/ops/op_registry.h"
#include "runtime/plugin/c_gradient.h"
#include "runtime/plugin/registry.h"
#include "runtime/session/session.h"

using namespace loom;  // NOLINT: this file is the boundary

#define LOOM_STR_(x) #x
#define LOOM_STR(x) LOOM_STR_(x)

struct loom_op_builder {
  NodeBuilder b;
};
struct loom_callable {
  loom_session* session;
  std::shared_ptr<Runnable> executor;
  std::vector<Output> feeds;
  int num_fetches;
};


extern "C" {

const char* loom_version(void) {
  return LOOM_VERSION_STRING " (api " LOOM_API_VERSION ", plugin abi " LOOM_STR(LOOM_PLUGIN_ABI_MAJOR) "." LOOM_STR(
      LOOM_PLUGIN_ABI_MINOR) ")";
}

loom_status* loom_status_new(loom_code code, const char* msg) {
  if (code == LOOM_CODE_OK) return nullptr;
  return new loom_status{code, msg ? msg : ""};
}
loom_code loom_status_code(const loom_status* s) { return s ? s->code : LOOM_CODE_OK; }
const char* loom_status_message(const loom_status* s) { return s ? s->message.c_str() : ""; }
void loom_status_free(loom_status* s) { delete s; }
const char* loom_code_name(loom_code code) { return CodeName(code); }

size_t loom_dtype_size(loom_dtype dtype) { return DataTypeSize(dtype); }
const char* loom_dtype_name(loom_dtype dtype) { return DataTypeName(dtype); }

// ------------------------------------------------------------------ tensors

static Status MakeShape(const int64_t* dims, int num_dims, TensorShape* out) {
  if (num_dims < 0) return InvalidArgument("num_dims is negative (", num_dims, ")");
  if (num_dims > 0 && !dims) return InvalidArgument("dims is NULL but num_dims is ", num_dims);
  std::vector<int64_t> d(dims, dims + num_dims);
  for (int i = 0; i < num_dims; ++i)
    if (d[i] < 0) return InvalidArgument("dimension ", i, " is negative (", d[i], ")");
  *out = TensorShape(std::move(d));
  return Status::OK();
}

loom_status* loom_tensor_new(loom_dtype dtype, const int64_t* dims, int num_dims, loom_tensor** out) {
  return Guard([&]() -> loom_status* {
    if (!out) return ToCStatus(InvalidArgument("out_tensor is NULL"));
    TensorShape shape;
    Status s = MakeShape(dims, num_dims, &shape);
    auto t = std::make_unique<loom_tensor>();
    if (s.ok()) s = Tensor::Allocate(dtype, shape, &t->t, /*zero=*/true);
    if (!s.ok()) return ToCStatus(s);
    *out = t.release();
    return nullptr;
  });
}

namespace {
struct CallerBuffer {
  loom_deallocator dealloc;
  void* arg;
};
void ReleaseCallerBuffer(Buffer* b) {
  auto* cb = static_cast<CallerBuffer*>(b->release_arg);
  if (cb->dealloc) cb->dealloc(b->data, b->size, cb->arg);
  delete cb;
}
}  // namespace

loom_status* loom_tensor_new_from_data(loom_dtype dtype, const int64_t* dims, int num_dims, void* data,
                                       size_t byte_size, loom_deallocator dealloc, void* dealloc_arg,
                                       loom_tensor** out) {
  return Guard([&]() -> loom_status* {
    if (!out) return ToCStatus(InvalidArgument("out_tensor is NULL"));
    if (!DataTypeIsValid(dtype))
      return ToCStatus(InvalidArgument("unsupported tensor dtype ", DataTypeName(dtype), " (", int(dtype), ")"));
    TensorShape shape;
    Status s = MakeShape(dims, num_dims, &shape);
    if (!s.ok()) return ToCStatus(s);
    size_t want = static_cast<size_t>(shape.num_elements()) * DataTypeSize(dtype);
    if (byte_size != want)
      return ToCStatus(InvalidArgument("byte_size is ", byte_size, " but shape ", shape.ToString(), " of ",
                                       DataTypeName(dtype), " needs ", want));
    if (!data && want) return ToCStatus(InvalidArgument("data is NULL"));
    if (reinterpret_cast<uintptr_t>(data) % DataTypeSize(dtype) != 0)
      return ToCStatus(InvalidArgument("data is not aligned to its element size"));
    auto buf = std::make_shared<Buffer>();
    buf->data = data;
    buf->size = byte_size;
    buf->release_arg = new CallerBuffer{dealloc, dealloc_arg};
    buf->release = ReleaseCallerBuffer;
    auto t = std::make_unique<loom_tensor>();
    t->t = Tensor(dtype, shape, std::move(buf));
    *out = t.release();
    return nullptr;
  });
}

void loom_tensor_free(loom_tensor* t) { delete t; }
loom_dtype loom_tensor_dtype(const loom_tensor* t) { return t ? t->t.dtype() : LOOM_DTYPE_INVALID; }
int loom_tensor_num_dims(const loom_tensor* t) { return t ? t->t.rank() : 0; }
int64_t loom_tensor_dim(const loom_tensor* t, int i) {
  return t && i >= 0 && i < t->t.rank() ? t->t.shape().dim(i) : -1;
}
int64_t loom_tensor_num_elements(const loom_tensor* t) { return t ? t->t.num_elements() : 0; }
size_t loom_tensor_byte_size(const loom_tensor* t) { return t ? t->t.byte_size() : 0; }
void* loom_tensor_data(const loom_tensor* t) { return t ? t->t.data() : nullptr; }

// ------------------------------------------------------------------ graphs

loom_graph* loom_graph_new(void) {
  Registry::Get();  // load plugins (they may register ops)
  return ToC(new Graph());
}
void loom_graph_free(loom_graph* g) { delete FromC(g); }

loom_op_builder* loom_op_builder_new(loom_graph* g, const char* op_type, const char* name) {
  return new loom_op_builder{NodeBuilder(FromC(g), op_type ? op_type : "", name ? name : "")};
}
void loom_op_builder_add_input(loom_op_builder* b, loom_output in) { b->b.Input(FromC(in)); }
void loom_op_builder_add_input_list(loom_op_builder* b, const loom_output* ins, int n) {
  std::vector<Output> v;
  for (int i = 0; i < n; ++i) v.push_back(FromC(ins[i]));
  if (n < 0 || (n > 0 && !ins)) b->b.Fail(InvalidArgument("input list is NULL or has a negative size"));
  b->b.InputList(std::move(v));
}
void loom_op_builder_add_control_input(loom_op_builder* b, loom_op* op) { b->b.ControlInput(FromC(op)); }
void loom_op_builder_set_device(loom_op_builder* b, const char* d) { b->b.Device(d ? d : ""); }
void loom_op_builder_set_attr_int(loom_op_builder* b, const char* n, int64_t v) { b->b.Attr(n, AttrValue::Int(v)); }
void loom_op_builder_set_attr_float(loom_op_builder* b, const char* n, float v) { b->b.Attr(n, AttrValue::Float(v)); }
void loom_op_builder_set_attr_bool(loom_op_builder* b, const char* n, int v) { b->b.Attr(n, AttrValue::Bool(v != 0)); }
void loom_op_builder_set_attr_type(loom_op_builder* b, const char* n, loom_dtype v) { b->b.Attr(n, AttrValue::Type(v)); }

static PartialShape ToPartial(const int64_t* dims, int num_dims) {
  if (num_dims < 0) return PartialShape::Unknown();
  std::vector<int64_t> d(dims, dims + num_dims);
  for (auto& x : d)
    if (x < 0) x = -1;
  return PartialShape(std::move(d));
}

void loom_op_builder_set_attr_shape(loom_op_builder* b, const char* n, const int64_t* dims, int num_dims) {
  if (num_dims > 0 && !dims) {
    b->b.Fail(InvalidArgument("attr '", n, "': dims is NULL"));
    return;
  }
  b->b.Attr(n, AttrValue::Shape(ToPartial(dims, num_dims)));
}
void loom_op_builder_set_attr_string(loom_op_builder* b, const char* n, const void* v, size_t len) {
  b->b.Attr(n, AttrValue::String(v ? std::string(static_cast<const char*>(v), len) : std::string()));
}
void loom_op_builder_set_attr_tensor(loom_op_builder* b, const char* n, const loom_tensor* v) {
  if (!v) {
    b->b.Fail(InvalidArgument("attr '", n, "': tensor is NULL"));
    return;
  }
  if (!v->t.on_host()) {
    b->b.Fail(InvalidArgument("attr '", n, "': tensor must be in host memory"));
    return;
  }
  b->b.Attr(n, AttrValue::TensorValue(v->t.DeepCopy()));
}
void loom_op_builder_set_attr_int_list(loom_op_builder* b, const char* n, const int64_t* v, int num) {
  b->b.Attr(n, AttrValue::IntList(num > 0 ? std::vector<int64_t>(v, v + num) : std::vector<int64_t>()));
}
void loom_op_builder_set_attr_float_list(loom_op_builder* b, const char* n, const float* v, int num) {
  b->b.Attr(n, AttrValue::FloatList(num > 0 ? std::vector<float>(v, v + num) : std::vector<float>()));
}
void loom_op_builder_set_attr_bool_list(loom_op_builder* b, const char* n, const int* v, int num) {
  std::vector<bool> out;
  for (int i = 0; i < num; ++i) out.push_back(v[i] != 0);
  b->b.Attr(n, AttrValue::BoolList(std::move(out)));
}
void loom_op_builder_set_attr_type_list(loom_op_builder* b, const char* n, const loom_dtype* v, int num) {
  b->b.Attr(n, AttrValue::TypeList(num > 0 ? std::vector<DataType>(v, v + num) : std::vector<DataType>()));
}
void loom_op_builder_set_attr_shape_list(loom_op_builder* b, const char* n, const int64_t* const* dims,
                                         const int* num_dims, int num_shapes) {
  std::vector<PartialShape> out;
  for (int i = 0; i < num_shapes; ++i) out.push_back(ToPartial(dims[i], num_dims[i]));
  b->b.Attr(n, AttrValue::ShapeList(std::move(out)));
}
void loom_op_builder_set_attr_string_list(loom_op_builder* b, const char* n, const void* const* v,
                                          const size_t* lens, int num) {
  std::vector<std::string> out;
  for (int i = 0; i < num; ++i) out.emplace_back(static_cast<const char*>(v[i]), lens[i]);
  b->b.Attr(n, AttrValue::StringList(std::move(out)));
}
void loom_op_builder_set_attr_tensor_list(loom_op_builder* b, const char* n, const loom_tensor* const* v,
                                          int num) {
  std::vector<Tensor> out;
  for (int i = 0; i < num; ++i) out.push_back(v[i]->t.DeepCopy());
  b->b.Attr(n, AttrValue::TensorList(std::move(out)));
}

loom_status* loom_op_builder_finish(loom_op_builder* b, loom_op** out) {
  std::unique_ptr<loom_op_builder> owned(b);
  if (!b) return ToCStatus(InvalidArgument("builder is NULL"));
  return Guard([&]() -> loom_status* {
    Node* n = nullptr;
    Status s = b->b.Finish(&n);
    if (!s.ok()) return ToCStatus(s);
    if (out) *out = ToC(n);
    return nullptr;
  });
}
void loom_op_builder_abandon(loom_op_builder* b) { delete b; }

loom_op* loom_graph_op_by_name(const loom_graph* g, const char* name) {
  return g && name ? ToC(FromC(g)->FindNode(name)) : nullptr;
}
int loom_graph_num_ops(const loom_graph* g) { return g ? FromC(g)->num_nodes() : 0; }
loom_op* loom_graph_op_at(const loom_graph* g, int i) {
  return g && i >= 0 && i < FromC(g)->num_nodes() ? ToC(FromC(g)->node(i)) : nullptr;
}
const char* loom_op_name(const loom_op* op) { return FromC(op)->name().c_str(); }
const char* loom_op_type(const loom_op* op) { return FromC(op)->type().c_str(); }
const char* loom_op_device(const loom_op* op) { return FromC(op)->requested_device().c_str(); }
int loom_op_num_inputs(const loom_op* op) { return FromC(op)->num_inputs(); }
loom_output loom_op_input(const loom_op* op, int i) {
  const Node* n = FromC(op);
  return i >= 0 && i < n->num_inputs() ? ToC(n->input(i)) : loom_output{nullptr, 0};
}
int loom_op_num_control_inputs(const loom_op* op) { return static_cast<int>(FromC(op)->control_inputs().size()); }
loom_op* loom_op_control_input(const loom_op* op, int i) {
  const Node* n = FromC(op);
  return i >= 0 && i < static_cast<int>(n->control_inputs().size()) ? ToC(n->control_inputs()[i]) : nullptr;
}
int loom_op_num_outputs(const loom_op* op) { return FromC(op)->num_outputs(); }
loom_dtype loom_op_output_dtype(const loom_op* op, int i) {
  const Node* n = FromC(op);
  return i >= 0 && i < n->num_outputs() ? n->output_dtype(i) : LOOM_DTYPE_INVALID;
}
int loom_output_num_consumers(loom_output o) {
  const Node* n = FromC(o.op);
  return n && o.index >= 0 && o.index < n->num_outputs() ? static_cast<int>(n->consumers(o.index).size()) : 0;
}

loom_status* loom_graph_output_shape(const loom_graph* g, loom_output o, int64_t* dims, int max_dims,
                                     int* out_num_dims) {
  const Node* n = FromC(o.op);
  if (!n || o.index < 0 || o.index >= n->num_outputs())
    return ToCStatus(OutOfRange("output ", n ? n->name() : std::string("(null)"), ":", o.index, " does not exist"));
  const PartialShape& s = n->output_shape(o.index);
  if (out_num_dims) *out_num_dims = s.rank();
  for (int i = 0; i < s.rank() && i < max_dims; ++i) dims[i] = s.dim(i);
  return nullptr;
}

}  // extern "C"

namespace {
template <typename CType, typename CoreType>
loom_status* GetAttr(const loom_op* op, const char* name, CType* out,
                     Status (AttrMap::*get)(const std::string&, CoreType*) const) {
  if (!op || !name || !out) return ToCStatus(InvalidArgument("op, name or out is NULL"));
  CoreType v{};
  Status s = (FromC(op)->attrs().*get)(name, &v);
  if (!s.ok()) return ToCStatus(s.WithPrefix(FromC(op)->DebugString() + ": "));
  *out = static_cast<CType>(v);
  return nullptr;
}
}  // namespace

extern "C" {

loom_status* loom_op_attr_int(const loom_op* op, const char* name, int64_t* out) {
  return GetAttr(op, name, out, &AttrMap::GetInt);
}
loom_status* loom_op_attr_float(const loom_op* op, const char* name, float* out) {
  return GetAttr(op, name, out, &AttrMap::GetFloat);
}
loom_status* loom_op_attr_bool(const loom_op* op, const char* name, int* out) {
  return GetAttr(op, name, out, &AttrMap::GetBool);
}
loom_status* loom_op_attr_type(const loom_op* op, const char* name, loom_dtype* out) {
  return GetAttr(op, name, out, &AttrMap::GetType);
}

loom_status* loom_op_attr_int_list(const loom_op* op, const char* name, int64_t* values, int max_values,
                                   int* out_num) {
  std::vector<int64_t> v;
  Status s = FromC(op)->attrs().GetIntList(name, &v);
  if (!s.ok()) return ToCStatus(s.WithPrefix(FromC(op)->DebugString() + ": "));
  for (int i = 0; i < static_cast<int>(v.size()) && i < max_values; ++i) values[i] = v[i];
  if (out_num) *out_num = static_cast<int>(v.size());
  return nullptr;
}
loom_status* loom_op_attr_shape(const loom_op* op, const char* name, int64_t* dims, int max_dims,
                                int* out_num_dims) {
  PartialShape p;
  Status s = FromC(op)->attrs().GetShape(name, &p);
  if (!s.ok()) return ToCStatus(s.WithPrefix(FromC(op)->DebugString() + ": "));
  for (int i = 0; i < p.rank() && i < max_dims; ++i) dims[i] = p.dim(i);
  if (out_num_dims) *out_num_dims = p.rank();
  return nullptr;
}
loom_status* loom_op_attr_string(const loom_op* op, const char* name, const char** out, size_t* len) {
  const AttrValue* v = FromC(op)->attrs().Find(name);
  if (!v) return ToCStatus(NotFound(FromC(op)->DebugString(), ": no attr named '", name, "'"));
  if (v->kind() != AttrValue::kString)
    return ToCStatus(InvalidArgument(FromC(op)->DebugString(), ": attr '", name, "' is not a string"));
  *out = v->s().c_str();
  if (len) *len = v->s().size();
  return nullptr;
}
loom_status* loom_op_attr_tensor(const loom_op* op, const char* name, loom_tensor** out) {
  const Tensor* t = nullptr;
  Status s = FromC(op)->attrs().GetTensor(name, &t);
  if (!s.ok()) return ToCStatus(s.WithPrefix(FromC(op)->DebugString() + ": "));
  *out = new loom_tensor{t->DeepCopy()};
  return nullptr;
}

// ------------------------------------------------------------------ gradients

loom_status* loom_register_gradient(const char* op_type, loom_gradient_fn fn, void* user_data) {
  if (!op_type || !*op_type) return ToCStatus(InvalidArgument("op_type is empty"));
  OpRegistry::Global()->RegisterGradient(op_type, MakeCGradFn(fn, user_data));
  return nullptr;
}

loom_status* loom_graph_add_gradients(loom_graph* g, const char* prefix, const loom_output* ys, int num_ys,
                                      const loom_output* xs, int num_xs, const loom_output* dys,
                                      loom_output* out_dxs) {
  return Guard([&]() -> loom_status* {
    if (!g || num_ys < 0 || num_xs < 0 || (num_ys && !ys) || (num_xs && !xs) || (num_xs && !out_dxs))
      return ToCStatus(InvalidArgument("loom_graph_add_gradients: NULL or negative arguments"));
    std::vector<Output> y, x, dy, dx;
    for (int i = 0; i < num_ys; ++i) y.push_back(FromC(ys[i]));
    for (int i = 0; i < num_xs; ++i) x.push_back(FromC(xs[i]));
    if (dys)
      for (int i = 0; i < num_ys; ++i) dy.push_back(FromC(dys[i]));
    Status s = AddGradients(FromC(g), prefix ? prefix : "gradients", y, x, dy, &dx);
    if (!s.ok()) return ToCStatus(s);
    for (int i = 0; i < num_xs; ++i) out_dxs[i] = ToC(dx[i]);
    return nullptr;
  });
}

// ------------------------------------------------------------------ sessions

loom_session_options* loom_session_options_new(void) { return new loom_session_options(); }
void loom_session_options_free(loom_session_options* o) { delete o; }
void loom_session_options_set_inter_op_threads(loom_session_options* o, int n) { o->o.inter_op_threads = n; }
void loom_session_options_set_intra_op_threads(loom_session_options* o, int n) { o->o.intra_op_threads = n; }
void loom_session_options_set_default_device(loom_session_options* o, const char* d) {
  o->o.default_device = d ? d : "";
}
void loom_session_options_set_allow_soft_placement(loom_session_options* o, int v) {
  o->o.allow_soft_placement = v != 0;
}
void loom_session_options_set_log_device_placement(loom_session_options* o, int v) {
  o->o.log_device_placement = v != 0;
}

loom_status* loom_session_new(loom_graph* g, const loom_session_options* o, loom_session** out) {
  return Guard([&]() -> loom_status* {
    if (!g || !out) return ToCStatus(InvalidArgument("graph or out_session is NULL"));
    Registry::Get();
    auto* sess = new loom_session;
    sess->s = std::make_unique<Session>(FromC(g), o ? o->o : SessionOptions());
    *out = sess;
    return nullptr;
  });
}

static Status CollectSignature(const loom_output* feeds, int nf, const loom_output* fetches, int nout,
                               loom_op* const* targets, int nt, std::vector<Output>* f,
                               std::vector<Output>* o, std::vector<Node*>* t) {
  if (nf < 0 || nout < 0 || nt < 0) return InvalidArgument("negative feed, fetch or target count");
  if ((nf && !feeds) || (nout && !fetches) || (nt && !targets))
    return InvalidArgument("feeds, fetches or targets is NULL with a nonzero count");
  for (int i = 0; i < nf; ++i) f->push_back(FromC(feeds[i]));
  for (int i = 0; i < nout; ++i) o->push_back(FromC(fetches[i]));
  for (int i = 0; i < nt; ++i) t->push_back(FromC(targets[i]));
  return Status::OK();
}

loom_status* loom_session_run(loom_session* session, const loom_output* feeds, loom_tensor* const* feed_values,
                              int num_feeds, const loom_output* fetches, int num_fetches,
                              loom_op* const* targets, int num_targets, loom_tensor** out_values) {
  return Guard([&]() -> loom_status* {
    if (!session) return ToCStatus(InvalidArgument("session is NULL"));
    InFlight guard(session);
    std::vector<Output> f, o;
    std::vector<Node*> t;
    Status s = CollectSignature(feeds, num_feeds, fetches, num_fetches, targets, num_targets, &f, &o, &t);
    if (!s.ok()) return ToCStatus(s);
    if (num_fetches && !out_values) return ToCStatus(InvalidArgument("out_values is NULL"));
    std::vector<Tensor> in(num_feeds), result;
    for (int i = 0; i < num_feeds; ++i) {
      if (!feed_values || !feed_values[i]) return ToCStatus(InvalidArgument("feed value ", i, " is NULL"));
      in[i] = feed_values[i]->t;
    }
    s = session->s->Run(f, in, o, t, &result);
    if (!s.ok()) return ToCStatus(s);
    for (int i = 0; i < num_fetches; ++i) out_values[i] = new loom_tensor{std::move(result[i])};
    return nullptr;
  });
}

loom_status* loom_session_make_callable(loom_session* session, const loom_output* feeds, int num_feeds,
                                        const loom_output* fetches, int num_fetches, loom_op* const* targets,
                                        int num_targets, loom_callable** out) {
  return Guard([&]() -> loom_status* {
    if (!session || !out) return ToCStatus(InvalidArgument("session or out_callable is NULL"));
    std::vector<Output> f, o;
    std::vector<Node*> t;
    Status s = CollectSignature(feeds, num_feeds, fetches, num_fetches, targets, num_targets, &f, &o, &t);
    std::shared_ptr<Runnable> ex;
    if (s.ok()) s = session->s->GetExecutor(f, o, t, &ex);
    if (!s.ok()) return ToCStatus(s);
    *out = new loom_callable{session, std::move(ex), std::move(f), num_fetches};
    return nullptr;
  });
}

// Shared when another owner holds the buffer: a variable, a Const's value,
// a feed, another fetch. A count of one cannot grow behind the caller's back:
// only an owner can share a buffer, and the handle is then the only owner.
int loom_session_fetch_is_shared(const loom_tensor* value) {
  return value && value->t.buffer() && value->t.buffer().use_count() > 1 ? 1 : 0;
}

loom_status* loom_callable_run(loom_callable* c, loom_tensor* const* feed_values, loom_tensor** out_values) {
  return loom_callable_run_with_options(c, nullptr, feed_values, out_values);
}

loom_status* loom_callable_run_with_options(loom_callable* c, const loom_run_options* options,
                                            loom_tensor* const* feed_values, loom_tensor** out_values) {
  return Guard([&]() -> loom_status* {
    if (!c) return ToCStatus(InvalidArgument("callable is NULL"));
    InFlight guard(c->session);
    const size_t nf = c->feeds.size();
    // Small signatures avoid heap allocation for the argument arrays.
    Tensor in_small[8], out_small[8];
    std::vector<Tensor> in_big, out_big;
    Tensor* in = in_small;
    Tensor* outs = out_small;
    if (nf > 8) {
      in_big.resize(nf);
      in = in_big.data();
    }
    if (c->num_fetches > 8) {
      out_big.resize(c->num_fetches);
      outs = out_big.data();
    }
    for (size_t i = 0; i < nf; ++i) {
      if (!feed_values || !feed_values[i]) return ToCStatus(InvalidArgument("feed value ", i, " is NULL"));
      in[i] = feed_values[i]->t;
    }
    RunOptions ro;
    if (options && options->struct_size >= offsetof(loom_run_options, timeout_ms) + sizeof(int64_t))
      ro.timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : 0;
    Status s = Session::ValidateFeeds(c->feeds, in);
    if (s.ok()) s = c->executor->RunWithOptions(ro, in, static_cast<int>(nf), outs, c->num_fetches);
    if (!s.ok()) return ToCStatus(s);
    for (int i = 0; i < c->num_fetches; ++i) out_values[i] = new loom_tensor{std::move(outs[i])};
    return nullptr;
  });
}

void loom_callable_free(loom_callable* c) { delete c; }
void loom_session_free(loom_session* s) {
  if (!s) return;
  {
    std::unique_lock<std::mutex> l(s->mu);
    s->cv.wait(l, [s] { return s->in_flight == 0; });
  }
  delete s;
}

// ------------------------------------------------------------------ devices, plugins

int loom_device_count(void) { return static_cast<int>(Registry::Get()->devices().size()); }
const char* loom_device_name(int i) {
  auto d = Registry::Get()->devices();
  return i >= 0 && i < static_cast<int>(d.size()) ? d[i]->name.c_str() : nullptr;
}
const char* loom_device_type(int i) {
  auto d = Registry::Get()->devices();
  return i >= 0 && i < static_cast<int>(d.size()) ? d[i]->type.c_str() : nullptr;
}

loom_status* loom_plugin_load(const char* path) {
  if (!path || !*path) return ToCStatus(InvalidArgument("plugin path is empty"));
  return Guard([&]() { return ToCStatus(Registry::Get()->LoadPlugin(path)); });
}
loom_status* loom_load_op_library(const char* path) { return loom_plugin_load(path); }

int loom_plugin_count(void) { return static_cast<int>(Registry::Get()->plugins().size()); }

loom_status* loom_plugin_get(int i, loom_plugin_record* out) {
  // Strings handed out live for the process: keep one copy per record.
  static std::mutex mu;
  static std::vector<std::unique_ptr<PluginRecord>> kept;
  auto all = Registry::Get()->plugins();
  if (i < 0 || i >= static_cast<int>(all.size()))
    return ToCStatus(OutOfRange("plugin index ", i, " out of range (", all.size(), " plugins)"));
  if (!out || out->struct_size < offsetof(loom_plugin_record, error) + sizeof(const char*))
    return ToCStatus(InvalidArgument("out is NULL or its struct_size is too small"));
  std::lock_guard<std::mutex> l(mu);
  kept.push_back(std::make_unique<PluginRecord>(all[i]));
  const PluginRecord& r = *kept.back();
  out->path = r.path.c_str();
  out->name = r.name.c_str();
  out->version = r.version.c_str();
  out->abi_major = r.abi_major;
  out->abi_minor = r.abi_minor;
  out->loaded = r.loaded ? 1 : 0;
  out->error = r.error.c_str();
  return nullptr;
}

int loom_op_type_count(void) { return static_cast<int>(OpRegistry::Global()->ListNames().size()); }
const char* loom_op_type_at(int i) {
  static std::mutex mu;
  static std::vector<std::string> names;
  std::lock_guard<std::mutex> l(mu);
  names = OpRegistry::Global()->ListNames();  // ops only ever get added
  static std::vector<std::unique_ptr<std::string>> kept;
  if (i < 0 || i >= static_cast<int>(names.size())) return nullptr;
  for (const auto& k : kept)
    if (*k == names[i]) return k->c_str();
  kept.push_back(std::make_unique<std::string>(names[i]));
  return kept.back()->c_str();
}
char* loom_op_type_kernel_devices(const char* op_type) {
  std::string s;
  for (const auto& t : Registry::Get()->KernelDeviceTypes(op_type ? op_type : ""))
    s += (s.empty() ? "" : ",") + t;
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}
void loom_string_free(char* s) { std::free(s); }

int loom_kernel_count(void) { return static_cast<int>(Registry::Get()->AllKernels().size()); }

loom_status* loom_kernel_get(int i, loom_kernel_record* out) {
  auto all = Registry::Get()->AllKernels();
  if (i < 0 || i >= static_cast<int>(all.size()))
    return ToCStatus(OutOfRange("kernel index ", i, " out of range (", all.size(), " kernels)"));
  if (!out || out->struct_size < offsetof(loom_kernel_record, priority) + sizeof(int))
    return ToCStatus(InvalidArgument("out is NULL or its struct_size is too small"));
  const KernelDef* k = all[i];  // never freed: plugins stay loaded
  out->op_type = k->op_type.c_str();
  out->device_type = k->device_type.c_str();
  out->plugin_path = k->plugin ? k->plugin->path.c_str() : "";
  out->priority = k->priority;
  return nullptr;
}

const char* loom_device_plugin_path(int i) {
  auto d = Registry::Get()->devices();
  return i >= 0 && i < static_cast<int>(d.size()) && d[i]->plugin ? d[i]->plugin->path.c_str() : nullptr;
}

}  // extern "C"
