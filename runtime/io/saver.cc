#include "runtime/io/saver.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "runtime/io/checkpoint.h"
#include "runtime/plugin/registry.h"

namespace loom {

std::vector<Node*> GraphVariables(const Graph& g) {
  std::vector<Node*> vars;
  for (int i = 0; i < g.num_nodes(); ++i)
    if (g.node(i)->type() == "VariableV2") vars.push_back(g.node(i));
  std::sort(vars.begin(), vars.end(), [](Node* a, Node* b) { return a->name() < b->name(); });
  return vars;
}

namespace {

Status SelectVariables(const Graph& g, const std::vector<std::string>& names, std::vector<Node*>* out) {
  std::vector<Node*> all = GraphVariables(g);
  if (names.empty()) {
    *out = std::move(all);
    return Status::OK();
  }
  for (const std::string& name : names) {
    Node* n = g.FindNode(name);
    if (!n) return NotFound("the graph has no variable named '", name, "'");
    if (n->type() != "VariableV2")
      return InvalidArgument("'", name, "' is a ", n->type(), " op, not a variable (VariableV2)");
    if (std::find(out->begin(), out->end(), n) == out->end()) out->push_back(n);
  }
  return Status::OK();
}

// The session's resource for a VariableV2 node (created, uninitialized, if
// no step has used it yet -- exactly what the executor would create).
Variable* ResourceOf(Session* s, const Node* n) {
  std::string shared;
  (void)n->attrs().GetString("shared_name", &shared);
  DataType dt = LOOM_DTYPE_FLOAT;
  PartialShape shape;
  (void)n->attrs().GetType("dtype", &dt);
  (void)n->attrs().GetShape("shape", &shape);
  return s->resources()->LookupOrCreate(shared.empty() ? n->name() : shared, dt, shape);
}

}  // namespace

Status SaveVariables(Session* session, const std::string& path, const std::vector<std::string>& names) {
  std::vector<Node*> vars;
  RETURN_IF_ERROR(SelectVariables(*session->graph(), names, &vars));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (Node* n : vars) {
    Variable* v = ResourceOf(session, n);
    Tensor copy;
    {
      std::lock_guard<std::mutex> l(v->mu);
      if (!v->value.valid())
        return FailedPrecondition("cannot save variable '", n->name(),
                                  "': it is not initialized (run its initializer or restore it first)");
      const Tensor& t = v->value;
      // Copy under the lock, so the checksum matches the bytes written.
      RETURN_IF_ERROR(Tensor::Allocate(t.dtype(), t.shape(), &copy));
      if (t.on_host()) {
        if (t.byte_size()) std::memcpy(copy.data(), t.data(), t.byte_size());
      } else {
        RETURN_IF_ERROR(t.buffer()->device->CopyDeviceToHost(copy.data(), t.data(), t.byte_size())
                            .WithPrefix("saving variable '" + n->name() + "': "));
      }
    }
    tensors.emplace_back(n->name(), std::move(copy));
  }
  return WriteCheckpoint(path, std::move(tensors));
}

Status RestoreVariables(Session* session, const std::string& path, const std::vector<std::string>& names) {
  std::vector<Node*> vars;
  RETURN_IF_ERROR(SelectVariables(*session->graph(), names, &vars));
  std::unique_ptr<CheckpointReader> reader;
  RETURN_IF_ERROR(CheckpointReader::Open(path, &reader));
  // Read and check everything first: a failed restore changes nothing.
  std::vector<Tensor> values(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    Node* n = vars[i];
    const CheckpointReader::Entry* e = reader->Find(n->name());
    if (!e) return NotFound("checkpoint '", path, "' has no variable '", n->name(), "'");
    DataType dt = LOOM_DTYPE_INVALID;
    PartialShape shape;
    (void)n->attrs().GetType("dtype", &dt);
    (void)n->attrs().GetShape("shape", &shape);
    if (e->dtype != dt)
      return InvalidArgument("cannot restore variable '", n->name(), "' of dtype ", DataTypeName(dt), " from a ",
                             DataTypeName(e->dtype), " tensor in checkpoint '", path, "'");
    if (!shape.IsCompatibleWith(e->shape))
      return InvalidArgument("cannot restore variable '", n->name(), "' of shape ", shape.ToString(),
                             " from a tensor of shape ", e->shape.ToString(), " in checkpoint '", path, "'");
    RETURN_IF_ERROR(reader->Read(n->name(), &values[i]));
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    Variable* v = ResourceOf(session, vars[i]);
    std::lock_guard<std::mutex> l(v->mu);
    Tensor& cur = v->value;
    if (cur.valid() && !cur.on_host() && cur.shape() == values[i].shape() && cur.dtype() == values[i].dtype()) {
      // The variable lives in a device's memory: update it there.
      RETURN_IF_ERROR(cur.buffer()->device->CopyHostToDevice(cur.data(), values[i].data(), values[i].byte_size())
                          .WithPrefix("restoring variable '" + vars[i]->name() + "': "));
    } else {
      cur = values[i];
    }
  }
  return Status::OK();
}

}  // namespace loom
