// The MLP of examples/c/mlp.c (784-256-128-10, ReLU, sparse softmax
// cross-entropy, Adam with TensorFlow's defaults), built over loom.h so that
// the whole model — variables, forward, gradients and updates — can be put on
// one device while its inputs stay on the CPU. Used by the OpenCL training
// test and bench/opencl_bench.cc.
//
// Devices. loom_graph_add_gradients creates the gradient ops without device
// requests, and loom.h cannot change an op's request afterwards. So the model
// is built once without requests (placeholders pinned to the CPU), exported as
// a GraphDef and imported with `device` as the default device of every op
// that requests none; the session allows soft placement, so ops the device has
// no kernel for (the int32 shape arithmetic of the gradients) run on the CPU.
// Variable updates run where their variables live or fail: an Apply op is
// never soft-placed away from its variable.
//
// Initial weights are deterministic Consts (uniform, He-scaled), so runs on
// different devices start from identical values.
#ifndef LOOM_TESTS_CONFORMANCE_MLP_MODEL_H_
#define LOOM_TESTS_CONFORMANCE_MLP_MODEL_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../graph_util.h"
#include "loom/loom.h"

namespace mlp {

using loomtest::Take;

// Deterministic uniform [0, 1) numbers.
struct Lcg {
  uint64_t s;
  explicit Lcg(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 7) {}
  double Next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
  }
};

// A learnable synthetic data set shaped like Fashion-MNIST: each of 10
// classes has a random prototype image; samples are prototype + noise.
struct Data {
  int count = 0, features = 784;
  std::vector<float> images;
  std::vector<int32_t> labels;
};

inline Data MakeData(int count, uint64_t seed) {
  Data d;
  d.count = count;
  Lcg rng(seed);
  std::vector<float> proto(10 * 784);
  for (float& p : proto) p = static_cast<float>(rng.Next());
  for (int i = 0; i < count; ++i) {
    const int label = static_cast<int>(rng.Next() * 10) % 10;
    d.labels.push_back(label);
    for (int f = 0; f < 784; ++f) {
      const double noise = rng.Next() - 0.5;
      d.images.push_back(static_cast<float>(0.3 * proto[label * 784 + f] + 1.5 * noise));
    }
  }
  return d;
}

class Model {
 public:
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() {
    loom_callable_free(step_);
    loom_session_free(sess_);
    loom_graph_free(graph_);
  }

  // Builds the model with every op not pinned to the CPU requesting `device`
  // ("" for no request), creates a session and initialises the variables.
  // Returns "" or the error.
  std::string Build(const std::string& device, int batch, float learning_rate = 1e-3f,
                    uint64_t seed = 42) {
    batch_ = batch;
    loom_graph* proto = loom_graph_new();
    std::string err = BuildUnplaced(proto, learning_rate, seed);
    char* def = nullptr;
    size_t len = 0;
    if (err.empty()) err = Take(loom_graph_to_graphdef(proto, LOOM_GRAPHDEF_BINARY, &def, &len));
    loom_graph_free(proto);
    if (!err.empty()) return err;
    graph_ = loom_graph_new();
    loom_import_options* io = loom_import_options_new();
    if (!device.empty()) loom_import_options_set_default_device(io, device.c_str());
    err = Take(loom_graph_import_graphdef(graph_, def, len, io));
    loom_import_options_free(io);
    loom_string_free(def);
    if (!err.empty()) return err;
    x_ = {loom_graph_op_by_name(graph_, "images"), 0};
    y_ = {loom_graph_op_by_name(graph_, "labels"), 0};
    loss_ = {loom_graph_op_by_name(graph_, "loss"), 0};
    loom_op* train = loom_graph_op_by_name(graph_, "train");
    loom_op* init = loom_graph_op_by_name(graph_, "init");
    loom_session_options* o = loom_session_options_new();
    loom_session_options_set_allow_soft_placement(o, 1);
    err = Take(loom_session_new(graph_, o, &sess_));
    loom_session_options_free(o);
    if (!err.empty()) return err;
    err = Take(loom_session_run(sess_, nullptr, nullptr, 0, nullptr, 0, &init, 1, nullptr));
    if (!err.empty()) return err;
    loom_output feeds[2] = {x_, y_};
    return Take(loom_session_make_callable(sess_, feeds, 2, &loss_, 1, &train, 1, &step_));
  }

  // One training step on examples [first, first + batch) of d (wrapping);
  // the loss before the update in *loss.
  std::string Step(const Data& d, int first, double* loss) {
    int64_t xd[2] = {batch_, d.features}, yd[1] = {batch_};
    loom_tensor *x = nullptr, *y = nullptr, *l = nullptr;
    std::string err = Take(loom_tensor_new(LOOM_DTYPE_FLOAT, xd, 2, &x));
    if (err.empty()) err = Take(loom_tensor_new(LOOM_DTYPE_INT32, yd, 1, &y));
    if (err.empty()) {
      float* xp = static_cast<float*>(loom_tensor_data(x));
      int32_t* yp = static_cast<int32_t*>(loom_tensor_data(y));
      for (int i = 0; i < batch_; ++i) {
        const int e = (first + i) % d.count;
        for (int f = 0; f < d.features; ++f) xp[i * d.features + f] = d.images[e * d.features + f];
        yp[i] = d.labels[e];
      }
      loom_tensor* feeds[2] = {x, y};
      err = Take(loom_callable_run(step_, feeds, &l));
    }
    if (err.empty()) *loss = *static_cast<const float*>(loom_tensor_data(l));
    loom_tensor_free(x);
    loom_tensor_free(y);
    loom_tensor_free(l);
    return err;
  }

  loom_graph* graph() const { return graph_; }
  loom_session* session() const { return sess_; }

 private:
  struct Builder {
    loom_graph* g;
    std::string err;
    loom_output Op(const char* type, std::vector<loom_output> in, const char* name = nullptr,
                   const char* device = nullptr) {
      loom_op* op = nullptr;
      std::string e = loomtest::BuildOp(
          g, type, std::vector<loomtest::In>(in.begin(), in.end()),
          [device](loom_op_builder* b) {
            if (device) loom_op_builder_set_device(b, device);
          },
          name, &op);
      if (!e.empty() && err.empty()) err = std::string(type) + ": " + e;
      return {op, 0};
    }
    loom_output Finish(loom_op_builder* b, const char* what) {
      loom_op* op = nullptr;
      std::string e = Take(loom_op_builder_finish(b, &op));
      if (!e.empty() && err.empty()) err = std::string(what) + ": " + e;
      return {op, 0};
    }
    loom_output Const(loom_dtype dt, std::vector<int64_t> dims, const void* data) {
      loom_tensor* t = nullptr;
      std::string e = Take(loom_tensor_new(dt, dims.data(), static_cast<int>(dims.size()), &t));
      if (!e.empty()) {
        if (err.empty()) err = e;
        return {nullptr, 0};
      }
      std::memcpy(loom_tensor_data(t), data, loom_tensor_byte_size(t));
      loom_op_builder* b = loom_op_builder_new(g, "Const", nullptr);
      loom_op_builder_set_attr_tensor(b, "value", t);
      loom_op_builder_set_attr_type(b, "dtype", dt);
      loom_tensor_free(t);
      return Finish(b, "Const");
    }
    loom_output Scalar(float v) { return Const(LOOM_DTYPE_FLOAT, {}, &v); }
    loom_output Variable(const char* name, std::vector<int64_t> dims, loom_output init,
                         std::vector<loom_op*>* inits) {
      loom_op_builder* b = loom_op_builder_new(g, "VariableV2", name);
      loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
      loom_op_builder_set_attr_shape(b, "shape", dims.data(), static_cast<int>(dims.size()));
      loom_output v = Finish(b, "VariableV2");
      inits->push_back(Op("Assign", {v, init}).op);
      return v;
    }
  };

  std::string BuildUnplaced(loom_graph* g, float lr, uint64_t seed) {
    Builder b{g, ""};
    std::vector<loom_op*> inits;
    std::vector<loom_output> vars;
    Lcg rng(seed);
    auto placeholder = [&](const char* name, loom_dtype dt, std::vector<int64_t> dims) {
      loom_op_builder* pb = loom_op_builder_new(g, "Placeholder", name);
      loom_op_builder_set_attr_type(pb, "dtype", dt);
      loom_op_builder_set_attr_shape(pb, "shape", dims.data(), static_cast<int>(dims.size()));
      loom_op_builder_set_device(pb, "/device:CPU:0");  // the input stays on the host
      return b.Finish(pb, "Placeholder");
    };
    loom_output x = placeholder("images", LOOM_DTYPE_FLOAT, {-1, 784});
    loom_output y = placeholder("labels", LOOM_DTYPE_INT32, {-1});
    auto dense = [&](const char* name, loom_output in, int n_in, int n_out, bool relu) {
      std::vector<float> w(static_cast<size_t>(n_in) * n_out), bias(n_out, 0.0f);
      const double scale = std::sqrt(6.0 / n_in);  // He-uniform
      for (float& v : w) v = static_cast<float>(scale * (2 * rng.Next() - 1));
      std::string wn = std::string(name) + "/W", bn = std::string(name) + "/b";
      loom_output W = b.Variable(wn.c_str(), {n_in, n_out},
                                 b.Const(LOOM_DTYPE_FLOAT, {n_in, n_out}, w.data()), &inits);
      loom_output B = b.Variable(bn.c_str(), {n_out}, b.Const(LOOM_DTYPE_FLOAT, {n_out}, bias.data()),
                                 &inits);
      vars.push_back(W);
      vars.push_back(B);
      loom_output h = b.Op("BiasAdd", {b.Op("MatMul", {in, W}), B});
      return relu ? b.Op("Relu", {h}) : h;
    };
    loom_output h1 = dense("hidden1", x, 784, 256, true);
    loom_output h2 = dense("hidden2", h1, 256, 128, true);
    loom_output logits = dense("logits", h2, 128, 10, false);
    loom_output xent = b.Op("SparseSoftmaxCrossEntropyWithLogits", {logits, y});
    const int32_t axis0 = 0;
    loom_output loss = b.Op("Mean", {xent, b.Const(LOOM_DTYPE_INT32, {1}, &axis0)}, "loss");
    if (!b.err.empty()) return b.err;
    std::vector<loom_output> grads(vars.size());
    std::string e = Take(loom_graph_add_gradients(g, "gradients", &loss, 1, vars.data(),
                                                  static_cast<int>(vars.size()), nullptr,
                                                  grads.data()));
    if (!e.empty()) return e;
    // Adam, TensorFlow's defaults.
    loom_output b1 = b.Scalar(0.9f), b2 = b.Scalar(0.999f), eps = b.Scalar(1e-8f), lr_t = b.Scalar(lr);
    loom_output b1p = b.Variable("adam/beta1_power", {}, b.Scalar(0.9f), &inits);
    loom_output b2p = b.Variable("adam/beta2_power", {}, b.Scalar(0.999f), &inits);
    std::vector<loom_op*> applies;
    for (size_t i = 0; i < vars.size(); ++i) {
      int64_t dims[4];
      int rank = 0;
      loom_graph_output_shape(g, vars[i], dims, 4, &rank);
      std::vector<int64_t> shape(dims, dims + rank);
      std::vector<float> zeros(static_cast<size_t>(rank == 2 ? dims[0] * dims[1] : dims[0]), 0.0f);
      std::string base = loom_op_name(vars[i].op);
      loom_output m = b.Variable((base + "/adam_m").c_str(), shape,
                                 b.Const(LOOM_DTYPE_FLOAT, shape, zeros.data()), &inits);
      loom_output v = b.Variable((base + "/adam_v").c_str(), shape,
                                 b.Const(LOOM_DTYPE_FLOAT, shape, zeros.data()), &inits);
      // Gate the update on every gradient (TensorFlow's GATE_GRAPH): the
      // backward pass still reads the variables (dx = dy W^T), and an update
      // running before that read would change the gradient of the layer below.
      loom_op_builder* ab = loom_op_builder_new(g, "ApplyAdam", nullptr);
      for (loom_output in : {vars[i], m, v, b1p, b2p, lr_t, b1, b2, eps, grads[i]})
        loom_op_builder_add_input(ab, in);
      for (const loom_output& gr : grads) loom_op_builder_add_control_input(ab, gr.op);
      applies.push_back(b.Finish(ab, "ApplyAdam").op);
    }
    std::vector<loom_op*> updates;
    loom_output powers[2] = {b1p, b2p}, betas[2] = {b1, b2};
    for (int k = 0; k < 2; ++k) {
      loom_op_builder* ab = loom_op_builder_new(g, "Assign", nullptr);
      loom_op_builder_add_input(ab, powers[k]);
      loom_op_builder_add_input(ab, b.Op("Mul", {powers[k], betas[k]}));
      for (loom_op* a : applies) loom_op_builder_add_control_input(ab, a);
      updates.push_back(b.Finish(ab, "Assign").op);
    }
    loom_op_builder* tb = loom_op_builder_new(g, "NoOp", "train");
    for (loom_op* u : updates) loom_op_builder_add_control_input(tb, u);
    b.Finish(tb, "NoOp");
    loom_op_builder* ib = loom_op_builder_new(g, "NoOp", "init");
    for (loom_op* i : inits) loom_op_builder_add_control_input(ib, i);
    b.Finish(ib, "NoOp");
    (void)loss;
    return b.err;
  }

  loom_graph* graph_ = nullptr;
  loom_session* sess_ = nullptr;
  loom_callable* step_ = nullptr;
  loom_output x_{}, y_{}, loss_{};
  int batch_ = 0;
};

}  // namespace mlp

#endif  // LOOM_TESTS_CONFORMANCE_MLP_MODEL_H_
