// GraphDef export and import through loom.h: round trips, TensorFlow's input
// syntax, import options, TensorProto values, and hostile input.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using loomtest::GraphTest;
using loomtest::MakeTensor;
using loomtest::Take;
using loomtest::TensorPtr;

std::string Export(loom_graph* g, int format) {
  char* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(Take(loom_graph_to_graphdef(g, format, &data, &len)), "");
  std::string out(data ? data : "", len);
  loom_string_free(data);
  return out;
}

struct Options {
  loom_import_options* o = loom_import_options_new();
  ~Options() { loom_import_options_free(o); }
};

// Imports into g; "" or "CODE: message".
std::string Import(loom_graph* g, const std::string& data, int format = LOOM_GRAPHDEF_TEXT,
                   loom_import_options* o = nullptr) {
  Options own;
  if (!o) {
    o = own.o;
    loom_import_options_set_format(o, format);
  }
  return Take(loom_graph_import_graphdef(g, data.data(), data.size(), o));
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class GraphDefTest : public GraphTest {
 protected:
  // A small MLP: x[2,3] -> MatMul W[3,4] -> BiasAdd b[4] -> Relu -> Softmax.
  void BuildMlp() {
    x_ = Placeholder(LOOM_DTYPE_FLOAT, {2, 3}, "x");
    loom_output w = Const<float>({3, 4}, {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f, 0.9f, 1.0f, -1.1f, 1.2f}, "W");
    loom_output b = Const<float>({4}, {0.01f, -0.02f, 0.03f, 0.5f}, "b");
    loom_output mm = Op("MatMul", {x_, w}, "dense/MatMul");
    loom_output ba = Op("BiasAdd", {mm, b}, "dense/BiasAdd");
    loom_output r = Op("Relu", {ba}, "dense/Relu");
    y_ = Op("Softmax", {r}, "probs");
  }
  std::vector<float> RunMlp(loom_graph* g, loom_session** sess) {
    TensorPtr in = MakeTensor<float>({2, 3}, {1, 2, 3, -4, 5, -6});
    loom_output x{loom_graph_op_by_name(g, "x"), 0}, y{loom_graph_op_by_name(g, "probs"), 0};
    EXPECT_NE(x.op, nullptr);
    EXPECT_NE(y.op, nullptr);
    if (!x.op || !y.op) return {};
    if (!*sess) {
      EXPECT_EQ(Take(loom_session_new(g, nullptr, sess)), "");
    }
    loom_tensor* out = nullptr;
    loom_tensor* feeds[] = {in.get()};
    EXPECT_EQ(Take(loom_session_run(*sess, &x, feeds, 1, &y, 1, nullptr, 0, &out)), "");
    return TensorPtr(out).values<float>();
  }
  loom_output x_{}, y_{};
};

// A second graph and session, freed at the end of the test.
struct OtherGraph {
  loom_graph* g = loom_graph_new();
  loom_session* s = nullptr;
  ~OtherGraph() {
    loom_session_free(s);
    loom_graph_free(g);
  }
};

// ------------------------------------------------------------------ round trips

TEST_F(GraphDefTest, BinaryRoundTripGivesBitIdenticalOutputs) {
  BuildMlp();
  std::vector<float> want = RunMlp(g_, &sess_);
  std::string pb = Export(g_, LOOM_GRAPHDEF_BINARY);
  OtherGraph other;
  ASSERT_EQ(Import(other.g, pb, LOOM_GRAPHDEF_BINARY), "");
  EXPECT_EQ(loom_graph_num_ops(other.g), loom_graph_num_ops(g_));
  std::vector<float> got = RunMlp(other.g, &other.s);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float)));
}

TEST_F(GraphDefTest, TextRoundTripGivesBitIdenticalOutputs) {
  BuildMlp();
  std::vector<float> want = RunMlp(g_, &sess_);
  std::string text = Export(g_, LOOM_GRAPHDEF_TEXT);
  EXPECT_TRUE(Contains(text, "op: \"MatMul\"")) << text;
  EXPECT_TRUE(Contains(text, "producer:")) << text;
  OtherGraph other;
  ASSERT_EQ(Import(other.g, text, LOOM_GRAPHDEF_TEXT), "");
  std::vector<float> got = RunMlp(other.g, &other.s);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float)));
}

TEST_F(GraphDefTest, ReexportIsByteIdentical) {
  BuildMlp();
  for (int format : {LOOM_GRAPHDEF_BINARY, LOOM_GRAPHDEF_TEXT}) {
    std::string first = Export(g_, format);
    OtherGraph other;
    ASSERT_EQ(Import(other.g, first, format), "");
    EXPECT_EQ(Export(other.g, format), first) << "format " << format;
  }
}

TEST_F(GraphDefTest, EveryAttrKindSurvivesARoundTrip) {
  // Attrs whose names start with "_" are free-form, so one NoOp carries all kinds.
  loom_op_builder* b = loom_op_builder_new(g_, "NoOp", "all_attrs");
  loom_op_builder_set_attr_int(b, "_i", -7);
  loom_op_builder_set_attr_float(b, "_f", 2.5f);
  loom_op_builder_set_attr_bool(b, "_b", 1);
  loom_op_builder_set_attr_type(b, "_t", LOOM_DTYPE_INT64);
  int64_t dims[] = {2, -1, 3};
  loom_op_builder_set_attr_shape(b, "_shape", dims, 3);
  loom_op_builder_set_attr_shape(b, "_unknown_rank", nullptr, -1);
  loom_op_builder_set_attr_string(b, "_s", "a\0b", 3);
  TensorPtr t = MakeTensor<int32_t>({2, 2}, {1, -2, 3, -4});
  loom_op_builder_set_attr_tensor(b, "_tensor", t.get());
  int64_t il[] = {1, 2, 3};
  loom_op_builder_set_attr_int_list(b, "_il", il, 3);
  float fl[] = {0.5f, -1.5f};
  loom_op_builder_set_attr_float_list(b, "_fl", fl, 2);
  int bl[] = {1, 0, 1};
  loom_op_builder_set_attr_bool_list(b, "_bl", bl, 3);
  loom_dtype tl[] = {LOOM_DTYPE_FLOAT, LOOM_DTYPE_INT32};
  loom_op_builder_set_attr_type_list(b, "_tl", tl, 2);
  int64_t s0[] = {1, 2};
  const int64_t* shapes[] = {s0, nullptr};
  int ranks[] = {2, -1};
  loom_op_builder_set_attr_shape_list(b, "_shl", shapes, ranks, 2);
  const void* strs[] = {"x", "yz"};
  size_t lens[] = {1, 2};
  loom_op_builder_set_attr_string_list(b, "_sl", strs, lens, 2);
  TensorPtr t2 = MakeTensor<double>({3}, {1.25, 2.5, -3.75});
  const loom_tensor* ts[] = {t.get(), t2.get()};
  loom_op_builder_set_attr_tensor_list(b, "_tensors", ts, 2);
  loom_op_builder_set_attr_int_list(b, "_empty", nullptr, 0);
  ASSERT_EQ(Take(loom_op_builder_finish(b, nullptr)), "");

  for (int format : {LOOM_GRAPHDEF_BINARY, LOOM_GRAPHDEF_TEXT}) {
    std::string first = Export(g_, format);
    OtherGraph other;
    ASSERT_EQ(Import(other.g, first, format), "");
    EXPECT_EQ(Export(other.g, format), first);
    loom_op* op = loom_graph_op_by_name(other.g, "all_attrs");
    ASSERT_NE(op, nullptr);
    int64_t i = 0;
    ASSERT_EQ(Take(loom_op_attr_int(op, "_i", &i)), "");
    EXPECT_EQ(i, -7);
    float f = 0;
    ASSERT_EQ(Take(loom_op_attr_float(op, "_f", &f)), "");
    EXPECT_EQ(f, 2.5f);
    loom_dtype dt;
    ASSERT_EQ(Take(loom_op_attr_type(op, "_t", &dt)), "");
    EXPECT_EQ(dt, LOOM_DTYPE_INT64);
    int64_t got_dims[4];
    int rank = 0;
    ASSERT_EQ(Take(loom_op_attr_shape(op, "_shape", got_dims, 4, &rank)), "");
    ASSERT_EQ(rank, 3);
    EXPECT_EQ(got_dims[1], -1);
    ASSERT_EQ(Take(loom_op_attr_shape(op, "_unknown_rank", got_dims, 4, &rank)), "");
    EXPECT_EQ(rank, -1);
    const char* s = nullptr;
    size_t len = 0;
    ASSERT_EQ(Take(loom_op_attr_string(op, "_s", &s, &len)), "");
    EXPECT_EQ(std::string(s, len), std::string("a\0b", 3));
    loom_tensor* tv = nullptr;
    ASSERT_EQ(Take(loom_op_attr_tensor(op, "_tensor", &tv)), "");
    TensorPtr got(tv);
    EXPECT_EQ(got.shape(), (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(got.values<int32_t>(), (std::vector<int32_t>{1, -2, 3, -4}));
    int64_t gil[4];
    int n = 0;
    ASSERT_EQ(Take(loom_op_attr_int_list(op, "_il", gil, 4, &n)), "");
    EXPECT_EQ(n, 3);
    EXPECT_EQ(gil[2], 3);
  }
}

// ------------------------------------------------------------------ TensorFlow's syntax

TEST_F(GraphDefTest, OutputIndexAndControlInputSyntax) {
  const char* text = R"pb(
    node { name: "v" op: "Const"
           attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 3 } }
                                                float_val: 1 float_val: 2 float_val: 30 } } } }
    node { name: "parts" op: "Unpack" input: "v"
           attr { key: "T" value { type: DT_FLOAT } } attr { key: "num" value { i: 3 } } }
    node { name: "first" op: "NoOp" }
    node { name: "sum" op: "AddN" input: "parts:2" input: "parts" input: "^first"
           attr { key: "N" value { i: 2 } } attr { key: "T" value { type: DT_FLOAT } } }
    versions { producer: 1205 }
  )pb";
  ASSERT_EQ(Import(g_, text), "");
  loom_op* sum = loom_graph_op_by_name(g_, "sum");
  ASSERT_NE(sum, nullptr);
  ASSERT_EQ(loom_op_num_control_inputs(sum), 1);
  EXPECT_STREQ(loom_op_name(loom_op_control_input(sum, 0)), "first");
  EXPECT_EQ(loom_op_input(sum, 0).index, 2);
  EXPECT_EQ(loom_op_input(sum, 1).index, 0);
  EXPECT_EQ(Eval({sum, 0}).values<float>(), std::vector<float>{31});
  // Exported back with TensorFlow's spelling.
  std::string out = Export(g_, LOOM_GRAPHDEF_TEXT);
  EXPECT_TRUE(Contains(out, "input: \"parts:2\"")) << out;
  EXPECT_TRUE(Contains(out, "input: \"^first\"")) << out;
}

TEST_F(GraphDefTest, NodesMayComeInAnyOrder) {
  const char* text = R"pb(
    node { name: "neg" op: "Neg" input: "c" attr { key: "T" value { type: DT_INT32 } } }
    node { name: "c" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
           attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape {} int_val: 5 } } } }
  )pb";
  ASSERT_EQ(Import(g_, text), "");
  EXPECT_EQ(Eval({loom_graph_op_by_name(g_, "neg"), 0}).values<int32_t>(), std::vector<int32_t>{-5});
}

// ------------------------------------------------------------------ options

TEST_F(GraphDefTest, PrefixAndInputMapping) {
  BuildMlp();
  std::vector<float> want = RunMlp(g_, &sess_);
  std::string pb = Export(g_, LOOM_GRAPHDEF_BINARY);
  // Import a second copy into the same graph, its input wired to a Const.
  loom_output feed = Const<float>({2, 3}, {1, 2, 3, -4, 5, -6}, "real_input");
  Options o;
  loom_import_options_set_prefix(o.o, "imported");
  loom_import_options_add_input_mapping(o.o, "x", 0, feed);
  int before = loom_graph_num_ops(g_);
  ASSERT_EQ(Import(g_, pb, LOOM_GRAPHDEF_BINARY, o.o), "");
  EXPECT_EQ(loom_graph_num_ops(g_), before + 7);
  EXPECT_STREQ(loom_op_name(loom_graph_op_at(g_, before)), "imported/x");
  loom_op* mm = loom_graph_op_by_name(g_, "imported/dense/MatMul");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(loom_op_input(mm, 0).op, feed.op);
  loom_op* probs = loom_graph_op_by_name(g_, "imported/probs");
  ASSERT_NE(probs, nullptr);
  EXPECT_EQ(Eval({probs, 0}).values<float>(), want);
}

TEST_F(GraphDefTest, ControlMappingAndDevices) {
  const char* text = R"pb(
    node { name: "init" op: "NoOp" }
    node { name: "a" op: "NoOp" input: "^init" device: "/device:CPU:0" }
    node { name: "b" op: "NoOp" input: "^init" }
  )pb";
  loom_op* existing = nullptr;
  ASSERT_EQ(TryOp("NoOp", {}, &existing, "existing"), "");
  Options o;
  loom_import_options_set_format(o.o, LOOM_GRAPHDEF_TEXT);
  loom_import_options_add_control_mapping(o.o, "init", existing);
  loom_import_options_set_default_device(o.o, "/job:localhost/device:CPU:0");
  loom_import_options_set_prefix(o.o, "p");
  ASSERT_EQ(Import(g_, text, 0, o.o), "");
  loom_op* a = loom_graph_op_by_name(g_, "p/a");
  loom_op* b = loom_graph_op_by_name(g_, "p/b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(loom_op_control_input(a, 0), existing);
  EXPECT_STREQ(loom_op_device(a), "/device:CPU:0");
  EXPECT_STREQ(loom_op_device(b), "/job:localhost/device:CPU:0");

  Options clear;
  loom_import_options_set_format(clear.o, LOOM_GRAPHDEF_TEXT);
  loom_import_options_set_clear_devices(clear.o, 1);
  loom_import_options_set_prefix(clear.o, "q");
  ASSERT_EQ(Import(g_, text, 0, clear.o), "");
  EXPECT_STREQ(loom_op_device(loom_graph_op_by_name(g_, "q/a")), "");
}

TEST_F(GraphDefTest, MappingAKeyThatIsNotInTheGraphDefFails) {
  loom_output c = Scalar<float>(1.0f, "c");
  Options o;
  loom_import_options_set_format(o.o, LOOM_GRAPHDEF_TEXT);
  loom_import_options_add_input_mapping(o.o, "nope", 0, c);
  std::string err = Import(g_, "node { name: \"n\" op: \"NoOp\" }", 0, o.o);
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "nope")) << err;
}

TEST_F(GraphDefTest, NameCollisionIsAlreadyExistsAndAPrefixFixesIt) {
  BuildMlp();
  std::string pb = Export(g_, LOOM_GRAPHDEF_BINARY);
  int before = loom_graph_num_ops(g_);
  std::string err = Import(g_, pb, LOOM_GRAPHDEF_BINARY);
  EXPECT_TRUE(StartsWith(err, "ALREADY_EXISTS")) << err;
  EXPECT_EQ(loom_graph_num_ops(g_), before);
  Options o;
  loom_import_options_set_prefix(o.o, "copy");
  EXPECT_EQ(Import(g_, pb, 0, o.o), "");
}

// ------------------------------------------------------------------ TensorProto values

std::string ConstText(const std::string& dtype, const std::string& tensor_body) {
  return "node { name: \"c\" op: \"Const\" attr { key: \"dtype\" value { type: " + dtype +
         " } } attr { key: \"value\" value { tensor { dtype: " + dtype + " " + tensor_body + " } } } }";
}

TEST_F(GraphDefTest, TypedValuesRepeatTheLastOne) {
  ASSERT_EQ(Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 2 } dim { size: 2 } } float_val: 1 float_val: 2")), "");
  EXPECT_EQ(Eval({loom_graph_op_by_name(g_, "c"), 0}).values<float>(), (std::vector<float>{1, 2, 2, 2}));
}

TEST_F(GraphDefTest, NoValuesMeansZeros) {
  ASSERT_EQ(Import(g_, ConstText("DT_INT64", "tensor_shape { dim { size: 3 } }")), "");
  EXPECT_EQ(Eval({loom_graph_op_by_name(g_, "c"), 0}).values<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
}

TEST_F(GraphDefTest, EachDtypeReadsItsTypedField) {
  struct Case {
    const char* dtype;
    const char* body;
  } cases[] = {
      {"DT_DOUBLE", "tensor_shape { dim { size: 2 } } double_val: 1.5 double_val: -2"},
      {"DT_INT32", "tensor_shape { dim { size: 2 } } int_val: 7 int_val: -8"},
      {"DT_INT64", "tensor_shape { dim { size: 2 } } int64_val: 9000000000 int64_val: -1"},
      {"DT_BOOL", "tensor_shape { dim { size: 2 } } bool_val: true bool_val: false"},
      {"DT_UINT8", "tensor_shape { dim { size: 2 } } int_val: 255 int_val: 3"},
      {"DT_INT8", "tensor_shape { dim { size: 2 } } int_val: -128 int_val: 3"},
      {"DT_HALF", "tensor_shape { dim { size: 2 } } half_val: 15360 half_val: 49152"},  // 1.0, -2.0
  };
  for (const auto& c : cases) {
    OtherGraph other;
    ASSERT_EQ(Import(other.g, ConstText(c.dtype, c.body)), "") << c.dtype;
    ASSERT_EQ(Take(loom_session_new(other.g, nullptr, &other.s)), "");
    loom_output out{loom_graph_op_by_name(other.g, "c"), 0};
    loom_tensor* t = nullptr;
    ASSERT_EQ(Take(loom_session_run(other.s, nullptr, nullptr, 0, &out, 1, nullptr, 0, &t)), "") << c.dtype;
    TensorPtr got(t);
    std::string d = c.dtype;
    if (d == "DT_DOUBLE") { EXPECT_EQ(got.values<double>(), (std::vector<double>{1.5, -2})); }
    if (d == "DT_INT32") { EXPECT_EQ(got.values<int32_t>(), (std::vector<int32_t>{7, -8})); }
    if (d == "DT_INT64") { EXPECT_EQ(got.values<int64_t>(), (std::vector<int64_t>{9000000000LL, -1})); }
    if (d == "DT_BOOL") { EXPECT_EQ(got.values<uint8_t>(), (std::vector<uint8_t>{1, 0})); }
    if (d == "DT_UINT8") { EXPECT_EQ(got.values<uint8_t>(), (std::vector<uint8_t>{255, 3})); }
    if (d == "DT_INT8") { EXPECT_EQ(got.values<int8_t>(), (std::vector<int8_t>{-128, 3})); }
    if (d == "DT_HALF") { EXPECT_EQ(got.values<uint16_t>(), (std::vector<uint16_t>{15360, 49152})); }
  }
}

TEST_F(GraphDefTest, TensorContentMustMatchTheShape) {
  std::string err = Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 2 } } tensor_content: \"\\000\\000\\200?\""));
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "tensor_content has 4 bytes")) << err;
  ASSERT_EQ(Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 1 } } tensor_content: \"\\000\\000\\200?\"")), "");
  EXPECT_EQ(Eval({loom_graph_op_by_name(g_, "c"), 0}).values<float>(), std::vector<float>{1.0f});
}

TEST_F(GraphDefTest, MoreValuesThanElementsFails) {
  std::string err = Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 1 } } float_val: 1 float_val: 2"));
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
}

// ------------------------------------------------------------------ hostile input

TEST_F(GraphDefTest, UnknownOpsAreAllListedInOneError) {
  const char* text = R"pb(
    node { name: "a" op: "Conv3DBackpropFilterV9" }
    node { name: "b" op: "NoOp" }
    node { name: "c" op: "WhileLoopThing" }
    node { name: "d" op: "WhileLoopThing" }
  )pb";
  std::string err = Import(g_, text);
  EXPECT_TRUE(StartsWith(err, "NOT_FOUND")) << err;
  EXPECT_TRUE(Contains(err, "2 op type(s)")) << err;
  EXPECT_TRUE(Contains(err, "Conv3DBackpropFilterV9")) << err;
  EXPECT_TRUE(Contains(err, "WhileLoopThing (2 ops, first 'c')")) << err;
  EXPECT_EQ(loom_graph_num_ops(g_), 0);
}

TEST_F(GraphDefTest, DanglingInputIsInvalidArgument) {
  std::string err = Import(g_, "node { name: \"n\" op: \"Identity\" input: \"ghost:0\" attr { key: \"T\" value { type: DT_FLOAT } } }");
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "ghost")) << err;
}

TEST_F(GraphDefTest, CycleIsInvalidArgument) {
  const char* text = R"pb(
    node { name: "a" op: "Identity" input: "b" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "b" op: "Identity" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "ok" op: "NoOp" }
  )pb";
  std::string err = Import(g_, text);
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "cycle")) << err;
  EXPECT_TRUE(Contains(err, "'a'") && Contains(err, "'b'")) << err;
  EXPECT_EQ(loom_graph_num_ops(g_), 0);
}

TEST_F(GraphDefTest, SelfLoopThroughAControlInputIsACycle) {
  std::string err = Import(g_, "node { name: \"a\" op: \"NoOp\" input: \"^a\" }");
  EXPECT_TRUE(Contains(err, "cycle")) << err;
}

TEST_F(GraphDefTest, HugeDeclaredTensorIsRefusedWithoutAllocating) {
  std::string err = Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 1000000 } dim { size: 1000000 } } float_val: 0"));
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "limit")) << err;
  // The limit is an option.
  Options o;
  loom_import_options_set_format(o.o, LOOM_GRAPHDEF_TEXT);
  loom_import_options_set_max_tensor_bytes(o.o, 64);
  err = Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 17 } } float_val: 0"), 0, o.o);
  EXPECT_TRUE(Contains(err, "limit")) << err;
  EXPECT_EQ(Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: 16 } } float_val: 0"), 0, o.o), "");
}

TEST_F(GraphDefTest, ElementCountOverflowIsRefused) {
  std::string err = Import(g_, ConstText("DT_FLOAT",
      "tensor_shape { dim { size: 4294967296 } dim { size: 4294967296 } dim { size: 4294967296 } }"));
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
}

TEST_F(GraphDefTest, NegativeDimensionsAreRefused) {
  std::string err = Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: -3 } } float_val: 1"));
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "negative dimension")) << err;
  err = Import(g_, ConstText("DT_FLOAT", "tensor_shape { dim { size: -1 } } float_val: 1"));
  EXPECT_TRUE(Contains(err, "negative dimension")) << err;
  // In a shape attr, -1 means unknown but -2 is invalid.
  err = Import(g_, R"pb(node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
                               attr { key: "shape" value { shape { dim { size: -2 } } } } })pb");
  EXPECT_TRUE(Contains(err, "negative dimension")) << err;
  EXPECT_EQ(Import(g_, R"pb(node { name: "p" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
                                   attr { key: "shape" value { shape { dim { size: -1 } } } } })pb"), "");
}

TEST_F(GraphDefTest, VersionsAreChecked) {
  std::string err = Import(g_, "versions { producer: 5000 min_consumer: 4000 }");
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "min_consumer version 4000")) << err;
  err = Import(g_, "versions { producer: 1205 bad_consumers: 1205 }");
  EXPECT_TRUE(Contains(err, "bad_consumers")) << err;
  err = Import(g_, "versions { producer: -1 }");
  EXPECT_TRUE(Contains(err, "producer version -1")) << err;
  // TensorFlow 2.x graphs: a newer producer and min_consumer 0 are fine.
  EXPECT_EQ(Import(g_, "versions { producer: 1994 min_consumer: 12 }"), "");
}

TEST_F(GraphDefTest, MalformedNamesAndInputsAreRefused) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"node { name: \"\" op: \"NoOp\" }", "invalid name"},
      {"node { name: \"a\" op: \"NoOp\" } node { name: \"a\" op: \"NoOp\" }", "two nodes named 'a'"},
      {"node { name: \"a\" op: \"NoOp\" } node { name: \"b\" op: \"NoOp\" input: \"^a:1\" }", "output index"},
      {"node { name: \"a\" op: \"NoOp\" } node { name: \"b\" op: \"NoOp\" input: \"a:x\" }", "malformed input"},
      {"node { name: \"a\" op: \"NoOp\" } node { name: \"b\" op: \"Identity\" input: \"^a\" input: \"a\" "
       "attr { key: \"T\" value { type: DT_FLOAT } } }", "follows a control input"},
      {"node { name: \"a\" op: \"NoOp\" } node { name: \"b\" op: \"Identity\" input: \"a:0\" "
       "attr { key: \"T\" value { type: DT_FLOAT } } }", "nonexistent output"},
      {"node { name: \"b\" op: \"Identity\" attr { key: \"T\" value { type: DT_FLOAT } } }", "expects 1"},
      {"node { name: \"b\" op: \"Placeholder\" attr { key: \"dtype\" value { type: DT_COMPLEX64 } } }", "DT_COMPLEX64"},
      {"node { name: \"b\" op: \"NoOp\" attr { key: \"f\" value { func { name: \"g\" } } } }", "function"},
  };
  for (const auto& c : cases) {
    std::string err = Import(g_, c.text);
    EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << c.text << " -> " << err;
    EXPECT_TRUE(Contains(err, c.expect)) << c.text << " -> " << err;
    EXPECT_EQ(loom_graph_num_ops(g_), 0) << c.text;
  }
}

TEST_F(GraphDefTest, SchemaAndShapeErrorsComeFromTheOpBuilder) {
  const char* text = R"pb(
    node { name: "a" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "shape" value { shape { dim { size: 2 } dim { size: 3 } } } } }
    node { name: "mm" op: "MatMul" input: "a" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
  )pb";
  std::string err = Import(g_, text);
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "MatMul op 'mm'")) << err;
  EXPECT_EQ(loom_graph_num_ops(g_), 0);
}

TEST_F(GraphDefTest, AttrsTensorFlowAddedLaterAreDroppedAtTheirDefault) {
  const char* base = R"pb(
    node { name: "a" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "shape" value { shape { dim { size: 2 } dim { size: 2 } } } } }
    node { name: "mm" op: "MatMul" input: "a" input: "a" attr { key: "T" value { type: DT_FLOAT } }
           attr { key: "grad_a" value { b: %s } } attr { key: "_output_shapes" value { list { shape { dim { size: 2 } dim { size: 2 } } } } } }
  )pb";
  char text[1024];
  std::snprintf(text, sizeof(text), base, "false");
  EXPECT_EQ(Import(g_, text), "");
  OtherGraph other;
  std::snprintf(text, sizeof(text), base, "true");
  std::string err = Import(other.g, text);
  EXPECT_TRUE(Contains(err, "grad_a=true")) << err;
}

TEST_F(GraphDefTest, GarbageTextIsInvalidArgumentWithALine) {
  std::string err = Import(g_, "node { name: \"a\" op: \"NoOp\" \n bogus bogus }");
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "line 2")) << err;
}

TEST_F(GraphDefTest, DeeplyNestedAttrsAreRefusedNotAStackOverflow) {
  std::string open, close;
  for (int i = 0; i < 100000; ++i) {
    open += "attr { key: \"f\" value { func { name: \"g\" ";
    close += "} } } ";
  }
  std::string text = "node { name: \"n\" op: \"NoOp\" attr { key: \"f\" value { func { " + open + close + "} } } }";
  std::string err = Import(g_, text);
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err.substr(0, 200);
  EXPECT_EQ(loom_graph_num_ops(g_), 0);
}

TEST_F(GraphDefTest, EveryTruncationIsAStatusAndLeavesTheGraphUnchanged) {
  BuildMlp();
  std::string pb = Export(g_, LOOM_GRAPHDEF_BINARY);
  int ok = 0, failed = 0;
  for (size_t len = 0; len < pb.size(); ++len) {
    OtherGraph other;
    std::string err = Import(other.g, pb.substr(0, len), LOOM_GRAPHDEF_BINARY);
    if (err.empty()) {
      ++ok;  // a prefix ending on a node boundary is a smaller valid graph
    } else {
      ++failed;
      EXPECT_EQ(loom_graph_num_ops(other.g), 0) << "len " << len << ": " << err;
    }
  }
  EXPECT_GT(failed, static_cast<int>(pb.size()) / 2);
  EXPECT_GT(ok, 0);
}

TEST_F(GraphDefTest, SystematicBitFlipsNeverCrash) {
  BuildMlp();
  std::string pb = Export(g_, LOOM_GRAPHDEF_BINARY);
  int failures = 0, imports = 0;
  for (size_t i = 0; i < pb.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = pb;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      OtherGraph other;
      std::string err = Import(other.g, bad, LOOM_GRAPHDEF_BINARY);
      ++imports;
      if (!err.empty()) {
        ++failures;
        EXPECT_EQ(loom_graph_num_ops(other.g), 0) << err;
        EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT") || StartsWith(err, "NOT_FOUND") ||
                    StartsWith(err, "ALREADY_EXISTS"))
            << err;
      } else if (loom_graph_op_by_name(other.g, "probs")) {
        // A flip in a weight still gives a graph that runs.
        ASSERT_EQ(Take(loom_session_new(other.g, nullptr, &other.s)), "");
      }
    }
  }
  EXPECT_EQ(imports, static_cast<int>(pb.size()) * 8);
  EXPECT_GT(failures, 0);
}

TEST_F(GraphDefTest, NullArgumentsAreInvalidArgument) {
  char* data = nullptr;
  size_t len = 0;
  EXPECT_TRUE(StartsWith(Take(loom_graph_to_graphdef(nullptr, 0, &data, &len)), "INVALID_ARGUMENT"));
  EXPECT_TRUE(StartsWith(Take(loom_graph_to_graphdef(g_, 7, &data, &len)), "INVALID_ARGUMENT"));
  EXPECT_TRUE(StartsWith(Take(loom_graph_import_graphdef(nullptr, "", 0, nullptr)), "INVALID_ARGUMENT"));
  EXPECT_TRUE(StartsWith(Take(loom_graph_import_graphdef(g_, nullptr, 5, nullptr)), "INVALID_ARGUMENT"));
  // An empty GraphDef is a valid, empty graph.
  EXPECT_EQ(Take(loom_graph_import_graphdef(g_, "", 0, nullptr)), "");
  loom_import_options_free(nullptr);
}

}  // namespace

namespace {

TEST(OpSchema, DescribesInputsOutputsAndAttrs) {
  char* s = loom_op_type_schema("ConcatV2");
  ASSERT_NE(s, nullptr);
  std::string schema(s);
  loom_string_free(s);
  EXPECT_TRUE(Contains(schema, "op ConcatV2\n")) << schema;
  EXPECT_TRUE(Contains(schema, "input values N*T\n")) << schema;
  EXPECT_TRUE(Contains(schema, "input axis Tidx\n")) << schema;
  EXPECT_TRUE(Contains(schema, "output output T\n")) << schema;
  EXPECT_TRUE(Contains(schema, "attr N int 0 min=2\n")) << schema;
  EXPECT_TRUE(Contains(schema, "attr Tidx type 1 allowed=int32,int64\n")) << schema;
  s = loom_op_type_schema("VariableV2");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(Contains(s, "stateful 1\noutput ref dtype ref\n")) << s;
  loom_string_free(s);
  EXPECT_EQ(loom_op_type_schema("NoSuchOp"), nullptr);
  EXPECT_EQ(loom_op_type_schema(nullptr), nullptr);
}

}  // namespace
