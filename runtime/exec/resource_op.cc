#include "runtime/exec/resource_op.h"

#include <cstring>

#include "runtime/exec/queue.h"
#include "runtime/plugin/registry.h"

namespace loom {

namespace {

enum class Kind {
  kFIFOQueue,
  kPaddingFIFOQueue,
  kRandomShuffleQueue,
  kEnqueue,
  kEnqueueMany,
  kDequeue,
  kDequeueMany,
  kDequeueUpTo,
  kClose,
  kIsClosed,
  kSize,
  kAccumulator,
  kApplyGrad,
  kTakeGrad,
  kNumAccumulated,
  kSetGlobalStep
};

bool KindOf(const std::string& type, Kind* out) {
  static const struct {
    const char* name;
    Kind kind;
  } kOps[] = {
      {"FIFOQueue", Kind::kFIFOQueue},
      {"PaddingFIFOQueue", Kind::kPaddingFIFOQueue},
      {"RandomShuffleQueue", Kind::kRandomShuffleQueue},
      {"QueueEnqueue", Kind::kEnqueue},
      {"QueueEnqueueMany", Kind::kEnqueueMany},
      {"QueueDequeue", Kind::kDequeue},
      {"QueueDequeueMany", Kind::kDequeueMany},
      {"QueueDequeueUpTo", Kind::kDequeueUpTo},
      {"QueueClose", Kind::kClose},
      {"QueueIsClosed", Kind::kIsClosed},
      {"QueueSize", Kind::kSize},
      {"ConditionalAccumulator", Kind::kAccumulator},
      {"AccumulatorApplyGradient", Kind::kApplyGrad},
      {"AccumulatorTakeGradient", Kind::kTakeGrad},
      {"AccumulatorNumAccumulated", Kind::kNumAccumulated},
      {"AccumulatorSetGlobalStep", Kind::kSetGlobalStep},
  };
  std::string t = type;
  // Queue ops come as V1 (Ref(string) handle) and V2 (resource handle) in
  // TensorFlow; here both take the same handle (runtime/ops/data_flow_ops.cc).
  if (t.size() > 2 && t.compare(t.size() - 2, 2, "V2") == 0 && t.find("Queue") != std::string::npos)
    t.resize(t.size() - 2);
  for (const auto& o : kOps)
    if (t == o.name) {
      *out = o.kind;
      return true;
    }
  return false;
}

bool IsQueueMaker(Kind k) {
  return k == Kind::kFIFOQueue || k == Kind::kPaddingFIFOQueue || k == Kind::kRandomShuffleQueue;
}

std::string ResourceName(const Node* n) {
  std::string shared;
  (void)n->attrs().GetString("shared_name", &shared);
  return shared.empty() ? n->name() : shared;
}

Status ToHost(Tensor* t) {
  if (!t->valid() || t->on_host()) return Status::OK();
  return CopyTensor(*t, nullptr, t);
}

Status ScalarOut(DataType dt, int64_t v, Tensor* out) {
  RETURN_IF_ERROR(Tensor::Allocate(dt, TensorShape{}, out));
  if (dt == LOOM_DTYPE_INT32)
    *out->data_as<int32_t>() = static_cast<int32_t>(v);
  else if (dt == LOOM_DTYPE_INT64)
    *out->data_as<int64_t>() = v;
  else
    *out->data_as<uint8_t>() = v ? 1 : 0;
  return Status::OK();
}

Status ScalarIn(const Tensor& t, const char* what, int64_t* v) {
  if (!t.valid() || t.num_elements() != 1)
    return InvalidArgument(what, " must be a scalar, got ", t.valid() ? t.shape().ToString() : "nothing");
  if (t.dtype() == LOOM_DTYPE_INT32)
    *v = *t.data_as<int32_t>();
  else if (t.dtype() == LOOM_DTYPE_INT64)
    *v = *t.data_as<int64_t>();
  else
    return InvalidArgument(what, " must be int32 or int64, got ", DataTypeName(t.dtype()));
  return Status::OK();
}

// Registers a waiting attempt with the step: its abort cancels the attempt.
// `cancel` must do nothing once the attempt has completed.
void CancelOnAbort(Rendezvous* rv, uint64_t id, std::function<void(uint64_t, const Status&)> cancel) {
  if (!id || !rv) return;
  if (!rv->AddAbortCallback([id, cancel](const Status& s) { cancel(id, s); })) cancel(id, rv->abort_status());
}

// Fails the op (calls done) with a non-OK status.
#define RETURN_DONE(expr)          \
  do {                             \
    Status _s = (expr);            \
    if (!_s.ok()) return done(_s); \
  } while (0)

class Op : public ResourceOp {
 public:
  Op(const Node* n, Kind kind, ResourceMgr* rm, std::string name)
      : node_(n), kind_(kind), rm_(rm), name_(std::move(name)) {}

  void Compute(ResourceOpContext* ctx, std::function<void(const Status&)> done) override {
    switch (kind_) {
      case Kind::kFIFOQueue:
      case Kind::kPaddingFIFOQueue:
      case Kind::kRandomShuffleQueue: {
        std::shared_ptr<QueueBase> q;
        done(MakeQueue(&q));
        return;
      }
      case Kind::kAccumulator: {
        std::shared_ptr<ConditionalAccumulator> a;
        done(MakeAccumulator(&a));
        return;
      }
      default:
        break;
    }
    if (kind_ >= Kind::kAccumulator) return ComputeAccumulatorOp(ctx, std::move(done));
    std::shared_ptr<QueueBase> q;
    Status s = FindQueue(&q);
    if (!s.ok()) return done(s);
    loom_tensor* in = ctx->inputs;
    loom_tensor* out = ctx->outputs;
    switch (kind_) {
      case Kind::kEnqueue:
      case Kind::kEnqueueMany: {
        QueueBase::Tuple comps;
        for (int i = 1; i < node_->num_inputs(); ++i) {
          Tensor t = in[i].t;
          RETURN_DONE(ToHost(&t));
          comps.push_back(std::move(t));
        }
        uint64_t id = q->TryEnqueue(comps, kind_ == Kind::kEnqueueMany, done);
        CancelOnAbort(ctx->rendezvous, id, [q](uint64_t i, const Status& st) { q->Cancel(i, st); });
        return;
      }
      case Kind::kDequeue:
      case Kind::kDequeueMany:
      case Kind::kDequeueUpTo: {
        int64_t n = -1;
        if (kind_ != Kind::kDequeue) {
          Tensor t = in[1].t;
          RETURN_DONE(ToHost(&t));
          RETURN_DONE(ScalarIn(t, "n", &n));
          if (n < 0) return done(InvalidArgument("Dequeue: n must be >= 0, got ", n));
        }
        const int num_out = node_->num_outputs();
        uint64_t id =
            q->TryDequeue(n, kind_ == Kind::kDequeueUpTo, [out, num_out, done](const Status& st, QueueBase::Tuple t) {
              if (st.ok() && static_cast<int>(t.size()) != num_out) {
                done(Internal("queue returned ", t.size(), " components for ", num_out, " outputs"));
                return;
              }
              if (st.ok())
                for (int i = 0; i < num_out; ++i) out[i].t = std::move(t[i]);
              done(st);
            });
        CancelOnAbort(ctx->rendezvous, id, [q](uint64_t i, const Status& st) { q->Cancel(i, st); });
        return;
      }
      case Kind::kClose: {
        bool cancel = false;
        (void)node_->attrs().GetBool("cancel_pending_enqueues", &cancel);
        q->Close(cancel);
        return done(Status::OK());
      }
      case Kind::kIsClosed:
        return done(ScalarOut(LOOM_DTYPE_BOOL, q->IsClosed() ? 1 : 0, &out[0].t));
      case Kind::kSize:
        return done(ScalarOut(LOOM_DTYPE_INT32, q->Size(), &out[0].t));
      default:
        return done(Internal("unhandled queue op ", node_->type()));
    }
  }

 private:
  void ComputeAccumulatorOp(ResourceOpContext* ctx, std::function<void(const Status&)> done) {
    std::shared_ptr<ConditionalAccumulator> a;
    RETURN_DONE(FindAccumulator(&a));
    loom_tensor* in = ctx->inputs;
    loom_tensor* out = ctx->outputs;
    switch (kind_) {
      case Kind::kApplyGrad: {
        Tensor step = in[1].t, grad = in[2].t;
        RETURN_DONE(ToHost(&step));
        RETURN_DONE(ToHost(&grad));
        int64_t local_step = 0;
        RETURN_DONE(ScalarIn(step, "local_step", &local_step));
        return done(a->ApplyGrad(local_step, grad));
      }
      case Kind::kTakeGrad: {
        Tensor t = in[1].t;
        RETURN_DONE(ToHost(&t));
        int64_t n = 0;
        RETURN_DONE(ScalarIn(t, "num_required", &n));
        uint64_t id = a->TryTakeGrad(n, [out, done](const Status& st, Tensor g) {
          if (st.ok()) out[0].t = std::move(g);
          done(st);
        });
        CancelOnAbort(ctx->rendezvous, id, [a](uint64_t i, const Status& st) { a->Cancel(i, st); });
        return;
      }
      case Kind::kNumAccumulated:
        return done(ScalarOut(LOOM_DTYPE_INT32, a->NumAccumulated(), &out[0].t));
      case Kind::kSetGlobalStep: {
        Tensor t = in[1].t;
        RETURN_DONE(ToHost(&t));
        int64_t step = 0;
        RETURN_DONE(ScalarIn(t, "new_global_step", &step));
        return done(a->SetGlobalStep(step));
      }
      default:
        return done(Internal("unhandled accumulator op ", node_->type()));
    }
  }

  Status MakeQueue(std::shared_ptr<QueueBase>* q) {
    std::vector<DataType> types;
    std::vector<PartialShape> shapes;
    int64_t capacity = -1, min_after = 0, seed = 0, seed2 = 0;
    RETURN_IF_ERROR(node_->attrs().GetTypeList("component_types", &types));
    const AttrValue* sv = node_->attrs().Find("shapes");  // an empty list may be stored as another kind
    if (sv && sv->kind() == AttrValue::kShapeList) shapes = sv->shlist();
    (void)node_->attrs().GetInt("capacity", &capacity);
    (void)node_->attrs().GetInt("min_after_dequeue", &min_after);
    (void)node_->attrs().GetInt("seed", &seed);
    (void)node_->attrs().GetInt("seed2", &seed2);
    if (!shapes.empty() && shapes.size() != types.size())
      return InvalidArgument("shapes must have the same length as component_types: ", shapes.size(), " vs ",
                             types.size());
    if (kind_ == Kind::kPaddingFIFOQueue && shapes.size() != types.size())
      return InvalidArgument("PaddingFIFOQueue needs a shape for each component (", types.size(), " component types, ",
                             shapes.size(),
                             " shapes); use -1 for "
                             "dimensions to pad");
    if (kind_ != Kind::kPaddingFIFOQueue)
      for (size_t i = 0; i < shapes.size(); ++i)
        if (!shapes[i].fully_defined())
          return InvalidArgument(node_->type(), " requires fully defined shapes, but component ", i, " has shape ",
                                 shapes[i].ToString(), " (use a PaddingFIFOQueue for unknown dimensions)");
    if (kind_ == Kind::kRandomShuffleQueue && capacity >= 0 && min_after >= capacity)
      return InvalidArgument("RandomShuffleQueue: min_after_dequeue (", min_after, ") must be less than capacity (",
                             capacity, ")");
    for (DataType t : types)
      if (!DataTypeIsValid(t))
        return Unimplemented(node_->type(), ": component type ", DataTypeName(t),
                             " is not supported (no string "
                             "tensors yet)");
    std::shared_ptr<ResourceBase> r;
    RETURN_IF_ERROR(rm_->LookupOrCreate(
        name_,
        [&](std::shared_ptr<ResourceBase>* out) -> Status {
          if (kind_ == Kind::kFIFOQueue)
            *out = std::make_shared<FIFOQueue>(name_, types, shapes, capacity);
          else if (kind_ == Kind::kPaddingFIFOQueue)
            *out = std::make_shared<PaddingFIFOQueue>(name_, types, shapes, capacity);
          else
            *out = std::make_shared<RandomShuffleQueue>(name_, types, shapes, capacity, min_after, seed, seed2);
          return Status::OK();
        },
        &r));
    auto queue = std::dynamic_pointer_cast<QueueBase>(r);
    if (!queue) return InvalidArgument("resource '", name_, "' is a ", r->kind(), ", not a queue");
    const char* want = kind_ == Kind::kFIFOQueue          ? "FIFOQueue"
                       : kind_ == Kind::kPaddingFIFOQueue ? "PaddingFIFOQueue"
                                                          : "RandomShuffleQueue";
    RETURN_IF_ERROR(queue->MatchesAttrs(want, types, shapes, capacity));
    *q = std::move(queue);
    return Status::OK();
  }

  Status MakeAccumulator(std::shared_ptr<ConditionalAccumulator>* a) {
    DataType dtype = LOOM_DTYPE_FLOAT;
    PartialShape shape;
    std::string reduction = "MEAN";
    RETURN_IF_ERROR(node_->attrs().GetType("dtype", &dtype));
    (void)node_->attrs().GetShape("shape", &shape);
    (void)node_->attrs().GetString("reduction_type", &reduction);
    if (dtype != LOOM_DTYPE_FLOAT && dtype != LOOM_DTYPE_DOUBLE)
      return InvalidArgument("ConditionalAccumulator: dtype must be float or double, got ", DataTypeName(dtype));
    const bool mean = reduction != "SUM";
    std::shared_ptr<ResourceBase> r;
    RETURN_IF_ERROR(rm_->LookupOrCreate(
        name_,
        [&](std::shared_ptr<ResourceBase>* out) -> Status {
          *out = std::make_shared<ConditionalAccumulator>(name_, dtype, shape, mean);
          return Status::OK();
        },
        &r));
    auto acc = std::dynamic_pointer_cast<ConditionalAccumulator>(r);
    if (!acc) return InvalidArgument("resource '", name_, "' is a ", r->kind(), ", not a ConditionalAccumulator");
    RETURN_IF_ERROR(acc->MatchesAttrs(dtype, shape, mean));
    *a = std::move(acc);
    return Status::OK();
  }

  // The queue the handle's producer made earlier in this step.
  Status FindQueue(std::shared_ptr<QueueBase>* q) {
    auto r = rm_->Lookup(name_);
    *q = std::dynamic_pointer_cast<QueueBase>(r);
    if (!*q)
      return r ? InvalidArgument("resource '", name_, "' is a ", r->kind(), ", not a queue")
               : NotFound("queue '", name_, "' does not exist");
    return Status::OK();
  }
  Status FindAccumulator(std::shared_ptr<ConditionalAccumulator>* a) {
    auto r = rm_->Lookup(name_);
    *a = std::dynamic_pointer_cast<ConditionalAccumulator>(r);
    if (!*a)
      return r ? InvalidArgument("resource '", name_, "' is a ", r->kind(), ", not a ConditionalAccumulator")
               : NotFound("accumulator '", name_, "' does not exist");
    return Status::OK();
  }

  const Node* node_;
  const Kind kind_;
  ResourceMgr* rm_;
  const std::string name_;
};

#undef RETURN_DONE

}  // namespace

bool IsResourceOp(const std::string& t) {
  Kind k;
  return KindOf(t, &k);
}

Status ResourceOp::Create(const Node* n, ResourceMgr* rm, std::unique_ptr<ResourceOp>* out) {
  Kind kind;
  if (!KindOf(n->type(), &kind)) return Internal(n->DebugString(), " is not a queue or accumulator op");
  if (!rm) return Internal(n->DebugString(), ": no resource manager");
  std::string name;
  if (IsQueueMaker(kind) || kind == Kind::kAccumulator) {
    name = ResourceName(n);
  } else {
    // The handle must come straight from the op that makes the resource.
    const Node* src = n->num_inputs() > 0 ? n->input(0).node : nullptr;
    Kind sk;
    bool ok = src && KindOf(src->type(), &sk) && (IsQueueMaker(sk) || sk == Kind::kAccumulator);
    if (!ok)
      return InvalidArgument(n->DebugString(),
                             ": input 'handle' must come from a queue or accumulator op, but "
                             "comes from ",
                             src ? src->DebugString() : std::string("nothing"));
    const bool wants_accumulator = kind >= Kind::kAccumulator;
    if (wants_accumulator != (sk == Kind::kAccumulator))
      return InvalidArgument(n->DebugString(), ": input 'handle' comes from ", src->DebugString(), ", which is not a ",
                             wants_accumulator ? "ConditionalAccumulator" : "queue");
    name = ResourceName(src);
  }
  out->reset(new Op(n, kind, rm, std::move(name)));
  return Status::OK();
}

}  // namespace loom
