#include "runtime/autodiff/gradients.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_set>

#include "runtime/autodiff/grad_builder.h"
#include "runtime/ops/op_registry.h"

namespace loom {
namespace {

// Restores the graph's name prefix when it goes out of scope.
class PrefixGuard {
 public:
  explicit PrefixGuard(Graph* g) : g_(g), saved_(g->name_prefix()) {}
  ~PrefixGuard() { g_->set_name_prefix(saved_); }

 private:
  Graph* g_;
  std::string saved_;
};

// A prefix not used as the first path component(s) of any node name:
// "gradients", else "gradients_1", "gradients_2", ...
std::string UniquePrefix(const Graph& g, const std::string& base) {
  auto used = [&](const std::string& p) {
    for (int i = 0; i < g.num_nodes(); ++i) {
      const std::string& n = g.node(i)->name();
      if (n == p || (n.size() > p.size() && n.compare(0, p.size(), p) == 0 && n[p.size()] == '/'))
        return true;
    }
    return false;
  };
  if (!used(base)) return base;
  for (int k = 1;; ++k) {
    std::string c = StrCat(base, "_", k);
    if (!used(c)) return c;
  }
}

std::string OutputName(const Output& o) { return StrCat(o.node->name(), ":", o.index); }

class GradientBuilder {
 public:
  GradientBuilder(Graph* g, const std::vector<Output>& ys, const std::vector<Output>& xs,
                  const std::vector<Output>& dys)
      : g_(g), ys_(ys), xs_(xs), dys_(dys), n_(g->num_nodes()) {}

  Status Run(const std::string& prefix, std::vector<Output>* dxs);

 private:
  Status Validate() const;
  void ComputeBetween();
  Status SeedYs(GradBuilder& b);
  void AddContribution(Output o, Output grad, Node* from);
  Status SumContributions(Node* n, GradBuilder& b, std::vector<Output>* dy);
  Status CallGradient(Node* n, const std::vector<Output>& dy, std::vector<Output>* dx);
  std::string PathThrough(Node* n) const;

  Graph* g_;
  const std::vector<Output>& ys_;
  const std::vector<Output>& xs_;
  const std::vector<Output>& dys_;
  const int n_;  // nodes before we started: only these are visited
  std::string prefix_;

  std::vector<bool> between_;  // on a path from an x to a y
  std::vector<int> pending_;   // consumer edges inside `between_` not yet backpropagated
  // Contributions per node output: grads_[node id][output index].
  std::vector<std::vector<std::vector<Output>>> grads_;
  std::vector<Node*> via_;  // the consumer that first sent a gradient to each node
  std::vector<Output> summed_;  // summed gradient of each x, once its node was processed
  std::vector<bool> x_done_;
};

Status GradientBuilder::Validate() const {
  if (ys_.empty()) return InvalidArgument("AddGradients: no ys given");
  auto check = [&](const std::vector<Output>& v, const char* what) -> Status {
    for (size_t i = 0; i < v.size(); ++i) {
      const Output& o = v[i];
      if (!o.valid()) return InvalidArgument("AddGradients: ", what, "[", i, "] is null");
      if (o.node->id() < 0 || o.node->id() >= n_ || g_->node(o.node->id()) != o.node)
        return InvalidArgument("AddGradients: ", what, "[", i, "] (", o.node->name(),
                               ") is not an op of this graph");
      if (o.index < 0 || o.index >= o.node->num_outputs())
        return InvalidArgument("AddGradients: ", what, "[", i, "] refers to output ", o.index,
                               " of ", o.node->DebugString(), ", which has ",
                               o.node->num_outputs(), " outputs");
    }
    return Status::OK();
  };
  RETURN_IF_ERROR(check(ys_, "ys"));
  RETURN_IF_ERROR(check(xs_, "xs"));
  if (!dys_.empty() && dys_.size() != ys_.size())
    return InvalidArgument("AddGradients: ", dys_.size(), " dys given for ", ys_.size(),
                           " ys; pass none or one per y");
  for (size_t i = 0; i < dys_.size(); ++i) {
    const Output& d = dys_[i];
    if (!d.valid()) continue;
    if (d.index < 0 || d.index >= d.node->num_outputs())
      return InvalidArgument("AddGradients: dys[", i, "] refers to a nonexistent output");
    DataType dt = d.node->output_dtype(d.index), yt = ys_[i].node->output_dtype(ys_[i].index);
    if (dt != yt)
      return InvalidArgument("AddGradients: dys[", i, "] (", OutputName(d), ") has dtype ",
                             DataTypeName(dt), " but ys[", i, "] (", OutputName(ys_[i]),
                             ") has dtype ", DataTypeName(yt));
  }
  return Status::OK();
}

void GradientBuilder::ComputeBetween() {
  // Backward from ys over data edges.
  std::vector<bool> back(n_, false), fwd(n_, false);
  std::deque<Node*> q;
  for (const Output& y : ys_)
    if (!back[y.node->id()]) back[y.node->id()] = true, q.push_back(y.node);
  while (!q.empty()) {
    Node* n = q.front();
    q.pop_front();
    for (const Output& in : n->inputs()) {
      if (!back[in.node->id()]) back[in.node->id()] = true, q.push_back(in.node);
    }
  }
  // Forward from xs over data edges (consumers added later are ignored).
  for (const Output& x : xs_)
    if (!fwd[x.node->id()]) fwd[x.node->id()] = true, q.push_back(x.node);
  while (!q.empty()) {
    Node* n = q.front();
    q.pop_front();
    for (int i = 0; i < n->num_outputs(); ++i) {
      for (const auto& c : n->consumers(i)) {
        int id = c.first->id();
        if (id < n_ && !fwd[id]) fwd[id] = true, q.push_back(c.first);
      }
    }
  }
  between_.assign(n_, false);
  for (int i = 0; i < n_; ++i) between_[i] = back[i] && fwd[i];
  pending_.assign(n_, 0);
  for (int i = 0; i < n_; ++i) {
    if (!between_[i]) continue;
    for (const Output& in : g_->node(i)->inputs())
      if (between_[in.node->id()]) ++pending_[in.node->id()];
  }
}

void GradientBuilder::AddContribution(Output o, Output grad, Node* from) {
  const int id = o.node->id();
  if (!between_[id]) return;
  if (!IsDifferentiableType(o.node->output_dtype(o.index))) return;
  if (!IsDifferentiableType(GradBuilder::DType(grad))) return;
  auto& per_node = grads_[id];
  if (per_node.empty()) per_node.resize(o.node->num_outputs());
  per_node[o.index].push_back(grad);
  if (via_[id] == nullptr) via_[id] = from;
}

Status GradientBuilder::SeedYs(GradBuilder& b) {
  for (size_t i = 0; i < ys_.size(); ++i) {
    const Output& y = ys_[i];
    if (!between_[y.node->id()]) continue;
    Output seed = i < dys_.size() ? dys_[i] : Output();
    if (!seed.valid()) {
      if (!IsDifferentiableType(y.node->output_dtype(y.index))) continue;
      g_->set_name_prefix(prefix_);
      seed = b.OnesLike(y);
      RETURN_IF_ERROR(b.status());
    }
    AddContribution(y, seed, nullptr);
  }
  return Status::OK();
}

Status GradientBuilder::SumContributions(Node* n, GradBuilder& b, std::vector<Output>* dy) {
  dy->assign(n->num_outputs(), Output());
  auto& per_node = grads_[n->id()];
  if (per_node.empty()) return Status::OK();
  for (int i = 0; i < n->num_outputs(); ++i) {
    if (per_node[i].empty()) continue;
    (*dy)[i] = b.AddN(per_node[i]);
  }
  per_node.clear();
  per_node.shrink_to_fit();
  return b.status();
}

// "x -> a -> n -> b -> y": a path from an x through n to a y, for errors.
std::string GradientBuilder::PathThrough(Node* n) const {
  // Downstream: follow the consumers that sent gradients.
  std::vector<std::string> down;
  for (Node* c = via_[n->id()]; c != nullptr; c = via_[c->id()]) {
    down.push_back(StrCat("'", c->name(), "'"));
    if (down.size() > 64) break;
  }
  // Upstream: breadth-first back to an x over nodes in between.
  std::unordered_set<Node*> x_nodes;
  for (const Output& x : xs_) x_nodes.insert(x.node);
  std::vector<Node*> parent(n_, nullptr);
  std::vector<bool> seen(n_, false);
  std::deque<Node*> q{n};
  seen[n->id()] = true;
  Node* found = x_nodes.count(n) ? n : nullptr;
  while (!q.empty() && !found) {
    Node* m = q.front();
    q.pop_front();
    for (const Output& in : m->inputs()) {
      const int id = in.node->id();
      if (!between_[id] || seen[id]) continue;
      seen[id] = true;
      parent[id] = m;
      if (x_nodes.count(in.node)) {
        found = in.node;
        break;
      }
      q.push_back(in.node);
    }
  }
  std::vector<std::string> up;
  for (Node* m = found; m != nullptr && m != n; m = parent[m->id()])
    up.push_back(StrCat("'", m->name(), "'"));
  std::string s;
  for (const std::string& u : up) s += u + " -> ";
  s += StrCat("'", n->name(), "'");
  for (const std::string& d : down) s += " -> " + d;
  return s;
}

Status GradientBuilder::CallGradient(Node* n, const std::vector<Output>& dy,
                                     std::vector<Output>* dx) {
  GradFn fn;
  // An op may name the gradient it takes (TensorFlow's gradient_override_map
  // records "_gradient_op_type"); else its type's gradient is used.
  std::string override_type;
  if (n->attrs().GetString("_gradient_op_type", &override_type).ok() && !override_type.empty()) {
    if (!OpRegistry::Global()->FindGradient(override_type, &fn).ok())
      return NotFound("No gradient registered under '", override_type, "', which op '", n->name(),
                      "' of type '", n->type(), "' names in its _gradient_op_type attr (needed on the path ",
                      PathThrough(n), "); register one with loom_register_gradient");
  } else if (Status found = OpRegistry::Global()->FindGradient(n->type(), &fn); !found.ok()) {
    return NotFound("No gradient defined for op '", n->name(), "' of type '", n->type(),
                    "' (needed on the path ", PathThrough(n),
                    "); register one with loom_register_gradient, or mark the op not "
                    "differentiable");
  }
  dx->assign(n->num_inputs(), Output());
  if (!fn) return Status::OK();  // not differentiable: inputs get nothing
  g_->set_name_prefix(StrCat(prefix_, "/", n->name(), "_grad"));
  Status s = fn(g_, n, dy, dx);
  g_->set_name_prefix(prefix_);
  if (!s.ok()) return s.WithPrefix(StrCat("Gradient of ", n->DebugString(), ": "));
  if (static_cast<int>(dx->size()) != n->num_inputs())
    return Internal("Gradient of ", n->DebugString(), " returned ", dx->size(),
                    " gradients for ", n->num_inputs(), " inputs");
  // A gradient must look like its input: same dtype, compatible shape.
  for (int j = 0; j < n->num_inputs(); ++j) {
    const Output& d = (*dx)[j];
    if (!d.valid()) continue;
    const Output& in = n->input(j);
    DataType want = in.node->output_dtype(in.index), got = GradBuilder::DType(d);
    if (got != want)
      return InvalidArgument("Gradient of ", n->DebugString(), " for input ", j, " (",
                             OutputName(in), ") has dtype ", DataTypeName(got), ", expected ",
                             DataTypeName(want));
    PartialShape merged;
    if (!StaticShape(d).Merge(StaticShape(in), &merged).ok())
      return InvalidArgument("Gradient of ", n->DebugString(), " for input ", j, " (",
                             OutputName(in), ") has shape ", StaticShape(d).ToString(),
                             ", incompatible with the input's shape ",
                             StaticShape(in).ToString());
  }
  return Status::OK();
}

Status GradientBuilder::Run(const std::string& prefix, std::vector<Output>* dxs) {
  RETURN_IF_ERROR(Validate());
  PrefixGuard guard(g_);
  const std::string& outer = g_->name_prefix();
  const std::string base = prefix.empty() ? "gradients" : prefix;
  prefix_ = UniquePrefix(*g_, outer.empty() ? base : outer + "/" + base);

  ComputeBetween();
  grads_.assign(n_, {});
  via_.assign(n_, nullptr);
  GradBuilder b(g_);
  g_->set_name_prefix(prefix_);
  RETURN_IF_ERROR(SeedYs(b));

  // Which outputs are xs: their sums are kept when their node is processed.
  std::vector<std::vector<size_t>> x_at(n_);
  for (size_t i = 0; i < xs_.size(); ++i) x_at[xs_[i].node->id()].push_back(i);
  summed_.assign(xs_.size(), Output());

  std::deque<Node*> ready;
  for (int i = 0; i < n_; ++i)
    if (between_[i] && pending_[i] == 0) ready.push_back(g_->node(i));

  std::vector<Output> dy, dx;
  while (!ready.empty()) {
    Node* n = ready.front();
    ready.pop_front();
    g_->set_name_prefix(prefix_);
    RETURN_IF_ERROR(SumContributions(n, b, &dy));
    for (size_t xi : x_at[n->id()]) summed_[xi] = dy[xs_[xi].index];

    // Call the gradient function only if a gradient reached the node and
    // some input on the path can receive one.
    bool any_dy = std::any_of(dy.begin(), dy.end(), [](const Output& o) { return o.valid(); });
    bool any_input = false;
    for (int j = 0; j < n->num_inputs(); ++j) {
      const Output& in = n->input(j);
      any_input = any_input || (between_[in.node->id()] &&
                                IsDifferentiableType(in.node->output_dtype(in.index)));
    }
    dx.assign(n->num_inputs(), Output());
    if (any_dy && any_input) RETURN_IF_ERROR(CallGradient(n, dy, &dx));

    for (int j = 0; j < n->num_inputs(); ++j) {
      const Output& in = n->input(j);
      const int id = in.node->id();
      if (!between_[id]) continue;
      if (dx[j].valid()) AddContribution(in, dx[j], n);
      if (--pending_[id] == 0) ready.push_back(in.node);
    }
  }
  *dxs = summed_;
  return Status::OK();
}

}  // namespace

Status AddGradients(Graph* g, const std::string& prefix, const std::vector<Output>& ys,
                    const std::vector<Output>& xs, const std::vector<Output>& dys,
                    std::vector<Output>* dxs) {
  if (g == nullptr || dxs == nullptr) return InvalidArgument("AddGradients: null graph or dxs");
  GradientBuilder builder(g, ys, xs, dys);
  return builder.Run(prefix, dxs);
}

}  // namespace loom
