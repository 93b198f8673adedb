// The op-definition parser, the registry, and the standard ops' schemas.
#include "runtime/ops/op_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

Status BuildOne(const OpDefBuilder& b, OpDef* def) { return b.Build(def); }

const AttrDef& Attr(const OpDef& def, const std::string& name) {
  const AttrDef* a = def.FindAttr(name);
  EXPECT_NE(a, nullptr) << name;
  static AttrDef none;
  return a ? *a : none;
}

// ---------------------------------------------------------------- args

TEST(OpDefBuilder, ParsesTypeAttrArgs) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Input("x: T").Output("y: T").Attr("T: type"), &def).ok());
  ASSERT_EQ(def.inputs.size(), 1u);
  EXPECT_EQ(def.inputs[0].name, "x");
  EXPECT_EQ(def.inputs[0].type_attr, "T");
  EXPECT_EQ(def.inputs[0].type, LOOM_DTYPE_INVALID);
  EXPECT_FALSE(def.inputs[0].is_ref);
  EXPECT_EQ(def.outputs[0].type_attr, "T");
  EXPECT_EQ(Attr(def, "T").type, "type");
  EXPECT_FALSE(Attr(def, "T").has_allowed);
}

TEST(OpDefBuilder, ParsesFixedDtypeArgs) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Input("a: float").Input("b: int64").Input("c: bool")
                           .Output("d: string"),
                       &def)
                  .ok());
  EXPECT_EQ(def.inputs[0].type, LOOM_DTYPE_FLOAT);
  EXPECT_EQ(def.inputs[1].type, LOOM_DTYPE_INT64);
  EXPECT_EQ(def.inputs[2].type, LOOM_DTYPE_BOOL);
  EXPECT_EQ(def.outputs[0].type, LOOM_DTYPE_STRING);
  EXPECT_TRUE(def.inputs[0].type_attr.empty());
}

TEST(OpDefBuilder, ParsesNumberAttrLists) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Input("values: N * T")
                           .Input("ids: N * int32")
                           .Output("out: T")
                           .Attr("N: int >= 2")
                           .Attr("T: type"),
                       &def)
                  .ok());
  EXPECT_EQ(def.inputs[0].number_attr, "N");
  EXPECT_EQ(def.inputs[0].type_attr, "T");
  EXPECT_EQ(def.inputs[1].number_attr, "N");
  EXPECT_EQ(def.inputs[1].type, LOOM_DTYPE_INT32);
  EXPECT_TRUE(Attr(def, "N").has_minimum);
  EXPECT_EQ(Attr(def, "N").minimum, 2);
}

TEST(OpDefBuilder, NumberAttrWithoutMinimumGetsZero) {
  OpDef def;
  ASSERT_TRUE(
      BuildOne(OpDefBuilder("X").Output("out: num * T").Attr("num: int").Attr("T: type"), &def)
          .ok());
  EXPECT_TRUE(Attr(def, "num").has_minimum);
  EXPECT_EQ(Attr(def, "num").minimum, 0);
}

TEST(OpDefBuilder, ParsesTypeListArgs) {
  OpDef def;
  ASSERT_TRUE(
      BuildOne(OpDefBuilder("X").Input("in: Tin").Output("out: Tout").Attr("Tin: list(type)")
                   .Attr("Tout: list(type) >= 1"),
               &def)
          .ok());
  EXPECT_EQ(def.inputs[0].type_list_attr, "Tin");
  EXPECT_EQ(def.outputs[0].type_list_attr, "Tout");
  EXPECT_EQ(Attr(def, "Tout").type, "list(type)");
  EXPECT_TRUE(Attr(def, "Tout").has_minimum);
  EXPECT_EQ(Attr(def, "Tout").minimum, 1);
}

TEST(OpDefBuilder, ParsesRefArgs) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Input("ref: Ref(T)")
                           .Input("flag: Ref(bool)")
                           .Output("out: Ref(T)")
                           .Attr("T: type"),
                       &def)
                  .ok());
  EXPECT_TRUE(def.inputs[0].is_ref);
  EXPECT_EQ(def.inputs[0].type_attr, "T");
  EXPECT_TRUE(def.inputs[1].is_ref);
  EXPECT_EQ(def.inputs[1].type, LOOM_DTYPE_BOOL);
  EXPECT_TRUE(def.outputs[0].is_ref);
}

TEST(OpDefBuilder, AttrsMayBeDeclaredAfterArgsThatUseThem) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Attr("T: type").Input("x: T"), &def).ok());
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Input("x: T").Attr("T: type"), &def).ok());
}

// ---------------------------------------------------------------- attrs

TEST(OpDefBuilder, ParsesAllowedTypeSets) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Attr("T: {float, double, int32}"), &def).ok());
  const AttrDef& t = Attr(def, "T");
  EXPECT_EQ(t.type, "type");
  ASSERT_TRUE(t.has_allowed);
  EXPECT_EQ(t.allowed,
            (std::vector<DataType>{LOOM_DTYPE_FLOAT, LOOM_DTYPE_DOUBLE, LOOM_DTYPE_INT32}));
  EXPECT_FALSE(t.has_default);
}

TEST(OpDefBuilder, AcceptsBothDtypeSpellingsForDefaults) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Attr("a: type = DT_FLOAT")
                           .Attr("b: type = int64")
                           .Attr("c: {int32, int64} = DT_INT32")
                           .Attr("d: {DT_HALF, DT_DOUBLE}"),
                       &def)
                  .ok());
  EXPECT_EQ(Attr(def, "a").default_value.type(), LOOM_DTYPE_FLOAT);
  EXPECT_EQ(Attr(def, "b").default_value.type(), LOOM_DTYPE_INT64);
  EXPECT_EQ(Attr(def, "c").default_value.type(), LOOM_DTYPE_INT32);
  EXPECT_EQ(Attr(def, "d").allowed, (std::vector<DataType>{LOOM_DTYPE_HALF, LOOM_DTYPE_DOUBLE}));
}

TEST(OpDefBuilder, ExpandsTypeShorthands) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Attr("a: numbertype")
                           .Attr("b: {realnumbertype}")
                           .Attr("c: {numbertype, bool}"),
                       &def)
                  .ok());
  const auto& a = Attr(def, "a").allowed;
  EXPECT_EQ(Attr(def, "a").type, "type");
  for (DataType dt : {LOOM_DTYPE_FLOAT, LOOM_DTYPE_DOUBLE, LOOM_DTYPE_INT32, LOOM_DTYPE_INT64,
                      LOOM_DTYPE_UINT8, LOOM_DTYPE_HALF}) {
    EXPECT_NE(std::find(a.begin(), a.end(), dt), a.end()) << DataTypeName(dt);
  }
  EXPECT_EQ(std::find(a.begin(), a.end(), LOOM_DTYPE_BOOL), a.end());
  EXPECT_EQ(Attr(def, "b").allowed, a);
  const auto& c = Attr(def, "c").allowed;
  EXPECT_NE(std::find(c.begin(), c.end(), LOOM_DTYPE_BOOL), c.end());
  EXPECT_EQ(c.size(), a.size() + 1);
}

TEST(OpDefBuilder, DropsTensorFlowDtypesLoomLacks) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Attr("T: {float, complex64, qint8, variant}"), &def).ok());
  EXPECT_EQ(Attr(def, "T").allowed, std::vector<DataType>{LOOM_DTYPE_FLOAT});
}

TEST(OpDefBuilder, ParsesScalarDefaults) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Attr("keep_dims: bool = false")
                           .Attr("use_locking: bool = true")
                           .Attr("axis: int = -1")
                           .Attr("seed: int = 0")
                           .Attr("alpha: float = 0.2")
                           .Attr("eps: float = 1e-07")
                           .Attr("data_format: string = 'NHWC'")
                           .Attr("message: string = ''")
                           .Attr("label: string = \"x\""),
                       &def)
                  .ok());
  EXPECT_TRUE(Attr(def, "keep_dims").has_default);
  EXPECT_EQ(Attr(def, "keep_dims").default_value.kind(), AttrValue::kBool);
  EXPECT_FALSE(Attr(def, "keep_dims").default_value.b());
  EXPECT_TRUE(Attr(def, "use_locking").default_value.b());
  EXPECT_EQ(Attr(def, "axis").default_value.i(), -1);
  EXPECT_EQ(Attr(def, "seed").default_value.i(), 0);
  EXPECT_FLOAT_EQ(Attr(def, "alpha").default_value.f(), 0.2f);
  EXPECT_FLOAT_EQ(Attr(def, "eps").default_value.f(), 1e-7f);
  EXPECT_EQ(Attr(def, "data_format").default_value.s(), "NHWC");
  EXPECT_EQ(Attr(def, "message").default_value.s(), "");
  EXPECT_EQ(Attr(def, "label").default_value.s(), "x");
}

TEST(OpDefBuilder, ParsesShapeAttrsAndDefaults) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Attr("a: shape")
                           .Attr("b: shape = { unknown_rank: true }")
                           .Attr("c: shape = []")
                           .Attr("d: shape = [2, ?, 3]")
                           .Attr("e: shape = [-1, 4]"),
                       &def)
                  .ok());
  EXPECT_EQ(Attr(def, "a").type, "shape");
  EXPECT_FALSE(Attr(def, "a").has_default);
  EXPECT_FALSE(Attr(def, "b").default_value.shape().rank_known());
  EXPECT_EQ(Attr(def, "c").default_value.shape().rank(), 0);
  EXPECT_EQ(Attr(def, "d").default_value.shape().dims(), (std::vector<int64_t>{2, -1, 3}));
  EXPECT_EQ(Attr(def, "e").default_value.shape().dims(), (std::vector<int64_t>{-1, 4}));
}

TEST(OpDefBuilder, ParsesTensorAndListAttrs) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X")
                           .Attr("value: tensor")
                           .Attr("squeeze_dims: list(int) >= 0 = []")
                           .Attr("strides: list(int) = [1, 2, 2, 1]")
                           .Attr("scales: list(float) = [0.5, 2]")
                           .Attr("types: list(type) = [DT_FLOAT, int32]")
                           .Attr("names: list(string) = ['a', 'b']")
                           .Attr("flags: list(bool) = [true, false]")
                           .Attr("shapes: list(shape) = [[2], [?, 3]]")
                           .Attr("Tlist: list({float, double})"),
                       &def)
                  .ok());
  EXPECT_EQ(Attr(def, "value").type, "tensor");
  const AttrDef& sq = Attr(def, "squeeze_dims");
  EXPECT_EQ(sq.type, "list(int)");
  EXPECT_TRUE(sq.has_minimum);
  EXPECT_EQ(sq.minimum, 0);
  EXPECT_EQ(sq.default_value.list_size(), 0u);
  EXPECT_EQ(Attr(def, "strides").default_value.ilist(), (std::vector<int64_t>{1, 2, 2, 1}));
  EXPECT_EQ(Attr(def, "scales").default_value.flist(), (std::vector<float>{0.5f, 2.0f}));
  EXPECT_EQ(Attr(def, "types").default_value.tlist(),
            (std::vector<DataType>{LOOM_DTYPE_FLOAT, LOOM_DTYPE_INT32}));
  EXPECT_EQ(Attr(def, "names").default_value.slist(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Attr(def, "flags").default_value.blist(), (std::vector<bool>{true, false}));
  ASSERT_EQ(Attr(def, "shapes").default_value.shlist().size(), 2u);
  EXPECT_EQ(Attr(def, "shapes").default_value.shlist()[1].dims(), (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(Attr(def, "Tlist").type, "list(type)");
  EXPECT_EQ(Attr(def, "Tlist").allowed,
            (std::vector<DataType>{LOOM_DTYPE_FLOAT, LOOM_DTYPE_DOUBLE}));
}

TEST(OpDefBuilder, ParsesAllowedStringSets) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'"), &def).ok());
  const AttrDef& a = Attr(def, "data_format");
  EXPECT_EQ(a.type, "string");
  EXPECT_FALSE(a.has_allowed);  // has_allowed is about dtypes
  EXPECT_EQ(a.allowed_strings, (std::vector<std::string>{"NHWC", "NCHW"}));
  EXPECT_EQ(a.default_value.s(), "NHWC");
}

TEST(OpDefBuilder, RecordsStatefulnessAndShapeFn) {
  OpDef def;
  ASSERT_TRUE(BuildOne(OpDefBuilder("X").SetIsStateful().SetShapeFn(shape_fns::Unknown), &def).ok());
  EXPECT_TRUE(def.is_stateful);
  EXPECT_TRUE(static_cast<bool>(def.shape_fn));
  ASSERT_TRUE(BuildOne(OpDefBuilder("Y"), &def).ok());
  EXPECT_FALSE(def.is_stateful);
  EXPECT_FALSE(static_cast<bool>(def.shape_fn));
}

// ---------------------------------------------------------------- malformed specs

void ExpectBad(const OpDefBuilder& b, const std::string& fragment) {
  OpDef def;
  Status s = b.Build(&def);
  ASSERT_FALSE(s.ok()) << "expected an error mentioning: " << fragment;
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_NE(s.message().find("Bad"), std::string::npos) << s.message();  // names the op
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

TEST(OpDefBuilder, RejectsMalformedSpecsNamingOpAndSpec) {
  ExpectBad(OpDefBuilder("Bad").Input("x T").Attr("T: type"), "\"x T\"");
  ExpectBad(OpDefBuilder("Bad").Input("X: T").Attr("T: type"), "not a valid name");
  ExpectBad(OpDefBuilder("Bad").Input("x: Q"), "'Q' is neither a dtype nor a declared type attr");
  ExpectBad(OpDefBuilder("Bad").Input("x: N * T").Attr("T: type"), "'N' is not declared");
  ExpectBad(OpDefBuilder("Bad").Input("x: N * T").Attr("N: float").Attr("T: type"),
            "must be an int");
  ExpectBad(OpDefBuilder("Bad").Input("x: T").Attr("T: int"), "not a type or list(type)");
  ExpectBad(OpDefBuilder("Bad").Input("x: Ref(T").Attr("T: type"), "Ref(");
  ExpectBad(OpDefBuilder("Bad").Attr("T: {float, double"), "unterminated");
  ExpectBad(OpDefBuilder("Bad").Attr("T: {floatt}"), "unknown dtype 'floatt'");
  ExpectBad(OpDefBuilder("Bad").Attr("T: {complex64}"), "empty");
  ExpectBad(OpDefBuilder("Bad").Attr("T: whatever"), "unknown attr type 'whatever'");
  ExpectBad(OpDefBuilder("Bad").Attr("keep_dims: bool = maybe"), "cannot parse default 'maybe'");
  ExpectBad(OpDefBuilder("Bad").Attr("axis: int = 1.5"), "cannot parse default");
  ExpectBad(OpDefBuilder("Bad").Attr("T: {float, double} = DT_INT32"), "not an allowed dtype");
  ExpectBad(OpDefBuilder("Bad").Attr("N: int >= 2 = 1"), "below the minimum");
  ExpectBad(OpDefBuilder("Bad").Attr("b: bool >= 1"), "'>=' applies only");
  ExpectBad(OpDefBuilder("Bad").Attr("f: {'A', 'B'} = 'C'"), "not one of the allowed strings");
  ExpectBad(OpDefBuilder("Bad").Attr("s: string = NHWC"), "cannot parse default");
  ExpectBad(OpDefBuilder("Bad").Attr("v: tensor = 3"), "cannot have a default");
  ExpectBad(OpDefBuilder("Bad").Attr("axis: int ="), "empty default");
  ExpectBad(OpDefBuilder("Bad").Attr("noType"), "expected 'name: type'");
}

TEST(OpDefBuilder, RejectsDuplicateNames) {
  ExpectBad(OpDefBuilder("Bad").Attr("T: type").Attr("T: type"), "declared twice");
  ExpectBad(OpDefBuilder("Bad").Input("x: float").Input("x: float"), "declared twice");
  ExpectBad(OpDefBuilder("Bad").Input("x: float").Output("x: float"), "another input or output");
}

TEST(OpDefBuilder, RejectsBadOpName) {
  OpDef def;
  Status s = OpDefBuilder("not an op").Build(&def);
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT);
}

// ---------------------------------------------------------------- registry

TEST(OpRegistry, RejectsDuplicatesAndFindsOps) {
  OpRegistry r;
  EXPECT_EQ(r.Find("Foo"), nullptr);
  ASSERT_TRUE(r.Register(OpDefBuilder("Foo").Input("x: float").Output("y: float")).ok());
  const OpDef* def = r.Find("Foo");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->name, "Foo");
  Status dup = r.Register(OpDefBuilder("Foo"));
  EXPECT_EQ(dup.code(), LOOM_CODE_ALREADY_EXISTS);
  EXPECT_NE(dup.message().find("Foo"), std::string::npos);
  EXPECT_EQ(r.Find("Foo"), def);  // the first registration stays
  Status bad = r.Register(OpDefBuilder("Bar").Input("x: Nope"));
  EXPECT_EQ(bad.code(), LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_EQ(r.Find("Bar"), nullptr);
  ASSERT_TRUE(r.Register(OpDefBuilder("Baz")).ok());
  EXPECT_EQ(r.ListNames(), (std::vector<std::string>{"Baz", "Foo"}));
}

TEST(OpRegistry, GradientsRegisteredEmptyOrReplaced) {
  OpRegistry r;
  GradFn fn;
  EXPECT_EQ(r.FindGradient("Foo", &fn).code(), LOOM_CODE_NOT_FOUND);

  r.RegisterGradient("Foo", nullptr);  // not differentiable
  ASSERT_TRUE(r.FindGradient("Foo", &fn).ok());
  EXPECT_FALSE(static_cast<bool>(fn));

  int which = 0;
  r.RegisterGradient("Foo", [&which](Graph*, Node*, const std::vector<Output>&,
                                     std::vector<Output>*) {
    which = 1;
    return Status::OK();
  });
  ASSERT_TRUE(r.FindGradient("Foo", &fn).ok());
  ASSERT_TRUE(static_cast<bool>(fn));
  ASSERT_TRUE(fn(nullptr, nullptr, {}, nullptr).ok());
  EXPECT_EQ(which, 1);

  r.RegisterGradient("Foo", [&which](Graph*, Node*, const std::vector<Output>&,
                                     std::vector<Output>*) {
    which = 2;
    return Status::OK();
  });
  ASSERT_TRUE(r.FindGradient("Foo", &fn).ok());
  ASSERT_TRUE(fn(nullptr, nullptr, {}, nullptr).ok());
  EXPECT_EQ(which, 2);
}

TEST(OpRegistry, GlobalIsOneInstance) { EXPECT_EQ(OpRegistry::Global(), OpRegistry::Global()); }

TEST(OpRegistrationDeathTest, AbortsOnABadSpec) {
  EXPECT_DEATH({ OpRegistration reg(OpDefBuilder("DeathOp").Input("x: Missing")); },
               "DeathOp");
}

// ---------------------------------------------------------------- standard ops

TEST(StandardOps, EveryOpOfTheOpSetIsRegistered) {
  const char* const kOps[] = {
      // issue 2
      "Add", "AddV2", "Sub", "Mul", "Div", "RealDiv", "Maximum", "Minimum", "Neg", "Abs", "Exp",
      "Log", "Sqrt", "Rsqrt", "Square", "Pow", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
      "MatMul", "BatchMatMul", "BatchMatMulV2", "Sum", "Mean", "Max", "Min", "Prod", "ArgMax",
      "ArgMin", "Reshape", "Transpose", "ExpandDims", "Squeeze", "ConcatV2", "Concat", "Split",
      "SplitV", "Slice", "StridedSlice", "Tile", "Pack", "Unpack", "Cast", "Fill", "ZerosLike",
      "OnesLike", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
      "LogicalAnd", "LogicalOr", "LogicalNot", "Select", "SelectV2", "OneHot", "RandomUniform",
      "RandomStandardNormal", "TruncatedNormal", "AddN", "BiasAdd", "Shape", "Size", "Rank",
      // gradients and training
      "Reciprocal", "Sign", "Floor", "Ceil", "Round", "FloorDiv", "FloorMod", "SquaredDifference",
      "Softplus", "Log1p", "Sin", "Cos", "ReluGrad", "SigmoidGrad", "TanhGrad", "SqrtGrad",
      "RsqrtGrad", "ReciprocalGrad", "SoftplusGrad", "BiasAddGrad", "BroadcastGradientArgs",
      "BroadcastTo", "Range", "InvertPermutation", "GatherV2", "UnsortedSegmentSum",
      "DynamicStitch", "Cumsum", "L2Loss", "SoftmaxCrossEntropyWithLogits",
      "SparseSoftmaxCrossEntropyWithLogits", "AssignAdd", "AssignSub", "ApplyGradientDescent",
      "ApplyMomentum", "ApplyAdam", "ApplyAdagrad", "ApplyRMSProp",
      // intrinsics
      "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "StopGradient",
      "PreventGradient", "NoOp", "VariableV2", "Assign", "IsVariableInitialized", "_Send", "_Recv",
      // used by gradients
      "ConcatOffset", "StridedSliceGrad", "Pad"};
  std::set<std::string> want(std::begin(kOps), std::end(kOps));
  for (const std::string& op : want) {
    const OpDef* def = OpRegistry::Global()->Find(op);
    ASSERT_NE(def, nullptr) << op;
    EXPECT_EQ(def->name, op);
    if (op != "NoOp" && op != "_Send" && op != "_Recv") {
      EXPECT_TRUE(static_cast<bool>(def->shape_fn)) << op << " has no shape function";
    }
  }
  std::vector<std::string> names = OpRegistry::Global()->ListNames();
  std::set<std::string> have(names.begin(), names.end());
  for (const std::string& op : want) EXPECT_TRUE(have.count(op)) << op;
}

TEST(StandardOps, MatMulSchemaMatchesTensorFlow) {
  const OpDef* def = OpRegistry::Global()->Find("MatMul");
  ASSERT_NE(def, nullptr);
  ASSERT_EQ(def->inputs.size(), 2u);
  EXPECT_EQ(def->inputs[0].name, "a");
  EXPECT_EQ(def->inputs[1].name, "b");
  EXPECT_EQ(def->outputs[0].name, "product");
  EXPECT_FALSE(Attr(*def, "transpose_a").default_value.b());
  EXPECT_FALSE(Attr(*def, "transpose_b").default_value.b());
  EXPECT_FALSE(def->is_stateful);
}

TEST(StandardOps, ReductionsTakeTidxAndKeepDims) {
  for (const char* op : {"Sum", "Mean", "Max", "Min", "Prod"}) {
    const OpDef* def = OpRegistry::Global()->Find(op);
    ASSERT_NE(def, nullptr) << op;
    EXPECT_EQ(def->inputs[1].name, "reduction_indices");
    EXPECT_EQ(def->inputs[1].type_attr, "Tidx");
    EXPECT_EQ(Attr(*def, "Tidx").default_value.type(), LOOM_DTYPE_INT32);
    EXPECT_FALSE(Attr(*def, "keep_dims").default_value.b());
  }
}

TEST(StandardOps, StatefulOpsAreMarked) {
  for (const char* op : {"VariableV2", "RandomUniform", "RandomStandardNormal", "TruncatedNormal",
                         "_Send", "_Recv", "Assign", "AssignAdd", "ApplyAdam"}) {
    const OpDef* def = OpRegistry::Global()->Find(op);
    ASSERT_NE(def, nullptr) << op;
    EXPECT_TRUE(def->is_stateful) << op;
  }
  for (const char* op : {"Add", "Const", "Identity", "MatMul", "Placeholder"}) {
    EXPECT_FALSE(OpRegistry::Global()->Find(op)->is_stateful) << op;
  }
}

TEST(StandardOps, VariableOpsUseRefs) {
  const OpDef* v = OpRegistry::Global()->Find("VariableV2");
  ASSERT_EQ(v->outputs.size(), 1u);
  EXPECT_TRUE(v->outputs[0].is_ref);
  EXPECT_EQ(v->outputs[0].type_attr, "dtype");
  EXPECT_EQ(Attr(*v, "container").default_value.s(), "");
  EXPECT_EQ(Attr(*v, "shared_name").default_value.s(), "");
  const OpDef* a = OpRegistry::Global()->Find("Assign");
  EXPECT_TRUE(a->inputs[0].is_ref);
  EXPECT_FALSE(a->inputs[1].is_ref);
  EXPECT_TRUE(a->outputs[0].is_ref);
  EXPECT_TRUE(Attr(*a, "validate_shape").default_value.b());
  EXPECT_TRUE(Attr(*a, "use_locking").default_value.b());
  const OpDef* adam = OpRegistry::Global()->Find("ApplyAdam");
  ASSERT_EQ(adam->inputs.size(), 10u);
  EXPECT_TRUE(adam->inputs[0].is_ref && adam->inputs[1].is_ref && adam->inputs[2].is_ref);
  EXPECT_FALSE(adam->inputs[3].is_ref);
  EXPECT_FALSE(Attr(*adam, "use_nesterov").default_value.b());
  EXPECT_TRUE(Attr(*OpRegistry::Global()->Find("ApplyAdagrad"), "update_slots").default_value.b());
}

TEST(StandardOps, IntrinsicSchemas) {
  const OpDef* c = OpRegistry::Global()->Find("Const");
  EXPECT_EQ(Attr(*c, "value").type, "tensor");
  EXPECT_EQ(Attr(*c, "dtype").type, "type");
  const OpDef* p = OpRegistry::Global()->Find("Placeholder");
  EXPECT_FALSE(Attr(*p, "shape").default_value.shape().rank_known());
  const OpDef* noop = OpRegistry::Global()->Find("NoOp");
  EXPECT_TRUE(noop->inputs.empty());
  EXPECT_TRUE(noop->outputs.empty());
  const OpDef* send = OpRegistry::Global()->Find("_Send");
  EXPECT_TRUE(send->outputs.empty());
  EXPECT_EQ(Attr(*send, "send_device_incarnation").type, "int");
  EXPECT_FALSE(Attr(*send, "client_terminated").default_value.b());
  const OpDef* recv = OpRegistry::Global()->Find("_Recv");
  EXPECT_EQ(recv->outputs[0].type_attr, "tensor_type");
}

TEST(StandardOps, ListAndOddArgsMatchTensorFlow) {
  const OpDef* concat = OpRegistry::Global()->Find("ConcatV2");
  EXPECT_EQ(concat->inputs[0].number_attr, "N");
  EXPECT_EQ(Attr(*concat, "N").minimum, 2);
  const OpDef* old = OpRegistry::Global()->Find("Concat");
  EXPECT_EQ(old->inputs[0].name, "concat_dim");
  EXPECT_EQ(old->inputs[0].type, LOOM_DTYPE_INT32);
  const OpDef* split = OpRegistry::Global()->Find("Split");
  EXPECT_EQ(split->outputs[0].number_attr, "num_split");
  const OpDef* unpack = OpRegistry::Global()->Find("Unpack");
  EXPECT_EQ(unpack->outputs[0].number_attr, "num");
  const OpDef* stitch = OpRegistry::Global()->Find("DynamicStitch");
  EXPECT_EQ(stitch->inputs[0].type, LOOM_DTYPE_INT32);
  EXPECT_EQ(stitch->inputs[0].number_attr, "N");
  const OpDef* cast = OpRegistry::Global()->Find("Cast");
  EXPECT_EQ(cast->inputs[0].type_attr, "SrcT");
  EXPECT_EQ(cast->outputs[0].type_attr, "DstT");
  EXPECT_FALSE(Attr(*cast, "Truncate").default_value.b());
  const OpDef* argmax = OpRegistry::Global()->Find("ArgMax");
  EXPECT_EQ(Attr(*argmax, "output_type").default_value.type(), LOOM_DTYPE_INT64);
  const OpDef* onehot = OpRegistry::Global()->Find("OneHot");
  EXPECT_EQ(Attr(*onehot, "axis").default_value.i(), -1);
  EXPECT_EQ(Attr(*onehot, "TI").default_value.type(), LOOM_DTYPE_INT64);
  const OpDef* bias = OpRegistry::Global()->Find("BiasAdd");
  EXPECT_EQ(Attr(*bias, "data_format").default_value.s(), "NHWC");
  const OpDef* sparse = OpRegistry::Global()->Find("SparseSoftmaxCrossEntropyWithLogits");
  EXPECT_EQ(Attr(*sparse, "Tlabels").default_value.type(), LOOM_DTYPE_INT64);
  const OpDef* ss = OpRegistry::Global()->Find("StridedSlice");
  for (const char* m :
       {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"}) {
    EXPECT_EQ(Attr(*ss, m).default_value.i(), 0) << m;
  }
  const OpDef* ru = OpRegistry::Global()->Find("RandomUniform");
  EXPECT_EQ(Attr(*ru, "seed").default_value.i(), 0);
  EXPECT_EQ(Attr(*ru, "seed2").default_value.i(), 0);
  EXPECT_FALSE(Attr(*ru, "dtype").has_default);
}

TEST(StandardOps, ComparisonsProduceBool) {
  for (const char* op : {"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
                         "LogicalAnd", "LogicalOr", "LogicalNot"}) {
    EXPECT_EQ(OpRegistry::Global()->Find(op)->outputs[0].type, LOOM_DTYPE_BOOL) << op;
  }
}

}  // namespace
}  // namespace loom
