// The C API's graph building: schemas, attrs, dtypes, shapes, names, and the
// errors each kind of bad input gets.
#include "test_util.h"

using loomtest::GraphTest;
using loomtest::Take;

namespace {

class Graph : public GraphTest {};

TEST_F(Graph, ConstAndIdentityRunAndReturnValues) {
  loom_output c = Const<float>({2, 2}, {1, 2, 3, 4}, "c");
  loom_output id = Op("Identity", {c}, "id");
  auto t = Eval(id);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t.values<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_STREQ(loom_op_name(id.op), "id");
  EXPECT_STREQ(loom_op_type(id.op), "Identity");
  EXPECT_EQ(loom_op_num_inputs(id.op), 1);
  EXPECT_EQ(loom_op_input(id.op, 0).op, c.op);
  EXPECT_EQ(loom_op_output_dtype(id.op, 0), LOOM_DTYPE_FLOAT);
  EXPECT_EQ(loom_output_num_consumers(c), 1);
  EXPECT_EQ(loom_graph_op_by_name(g_, "c"), c.op);
  EXPECT_EQ(loom_graph_op_by_name(g_, "nope"), nullptr);
}

TEST_F(Graph, InferredShapesAreVisible) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 784}, "x");
  int64_t dims[4];
  int rank = 0;
  LOOM_ASSERT_OK(loom_graph_output_shape(g_, x, dims, 4, &rank));
  ASSERT_EQ(rank, 2);
  EXPECT_EQ(dims[0], -1);
  EXPECT_EQ(dims[1], 784);
}

TEST_F(Graph, GeneratedNamesAreUnique) {
  loom_output a = Scalar<float>(1);
  loom_output b = Scalar<float>(2);
  EXPECT_STREQ(loom_op_name(a.op), "Const");
  EXPECT_STREQ(loom_op_name(b.op), "Const_1");
}

TEST_F(Graph, DuplicateNameIsAlreadyExists) {
  Scalar<float>(1, "same");
  loom_op_builder* b = loom_op_builder_new(g_, "NoOp", "same");
  std::string err = Take(loom_op_builder_finish(b, nullptr));
  EXPECT_NE(err.find("ALREADY_EXISTS"), std::string::npos) << err;
  EXPECT_NE(err.find("'same'"), std::string::npos) << err;
}

TEST_F(Graph, UnknownOpTypeIsNotFound) {
  loom_op* op = nullptr;
  std::string err = TryOp("NoSuchOp", {}, &op, "mystery");
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
  EXPECT_NE(err.find("NoSuchOp"), std::string::npos) << err;
}

TEST_F(Graph, WrongInputCountNamesTheOp) {
  loom_output c = Scalar<float>(1);
  loom_op* op = nullptr;
  std::string err = TryOp("Identity", {c, c}, &op, "twice");
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("'twice'"), std::string::npos) << err;
  EXPECT_NE(err.find("expects 1 input"), std::string::npos) << err;
}

TEST_F(Graph, MissingRequiredAttrIsNamed) {
  loom_op_builder* b = loom_op_builder_new(g_, "Placeholder", "p");
  std::string err = Take(loom_op_builder_finish(b, nullptr));
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("dtype"), std::string::npos) << err;
}

TEST_F(Graph, IllTypedAttrIsRejected) {
  loom_op_builder* b = loom_op_builder_new(g_, "Placeholder", "p");
  loom_op_builder_set_attr_int(b, "dtype", 3);
  std::string err = Take(loom_op_builder_finish(b, nullptr));
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("'dtype'"), std::string::npos) << err;
}

TEST_F(Graph, UnknownAttrIsRejected) {
  loom_op_builder* b = loom_op_builder_new(g_, "NoOp", "n");
  loom_op_builder_set_attr_int(b, "colour", 3);
  std::string err = Take(loom_op_builder_finish(b, nullptr));
  EXPECT_NE(err.find("unknown attr 'colour'"), std::string::npos) << err;
}

TEST_F(Graph, MalformedDeviceIsRejected) {
  loom_op_builder* b = loom_op_builder_new(g_, "NoOp", "n");
  loom_op_builder_set_device(b, "/job:/what");
  std::string err = Take(loom_op_builder_finish(b, nullptr));
  EXPECT_NE(err.find("malformed device name"), std::string::npos) << err;
}

TEST_F(Graph, InputFromNonexistentOutputIsRejected) {
  loom_output c = Scalar<float>(1);
  c.index = 5;
  loom_op* op = nullptr;
  std::string err = TryOp("Identity", {c}, &op, "bad");
  EXPECT_NE(err.find("nonexistent output"), std::string::npos) << err;
}

TEST_F(Graph, AssignToAValueIsRejected) {
  loom_output c = Scalar<float>(1);
  loom_op* op = nullptr;
  std::string err = TryOp("Assign", {c, c}, &op, "assign");
  EXPECT_NE(err.find("must be a reference"), std::string::npos) << err;
}

TEST_F(Graph, OpsCanBeListed) {
  Scalar<float>(1, "a");
  Scalar<float>(2, "b");
  ASSERT_EQ(loom_graph_num_ops(g_), 2);
  EXPECT_STREQ(loom_op_name(loom_graph_op_at(g_, 1)), "b");
  EXPECT_EQ(loom_graph_op_at(g_, 2), nullptr);
}

TEST_F(Graph, AttrGettersReturnValuesAndErrors) {
  loom_output p = Placeholder(LOOM_DTYPE_INT32, {3}, "p");
  loom_dtype dt = LOOM_DTYPE_INVALID;
  LOOM_ASSERT_OK(loom_op_attr_type(p.op, "dtype", &dt));
  EXPECT_EQ(dt, LOOM_DTYPE_INT32);
  int64_t v = 0;
  std::string err = Take(loom_op_attr_int(p.op, "dtype", &v));
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  err = Take(loom_op_attr_int(p.op, "nope", &v));
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
}

TEST(Tensor, WrapsCallerBufferZeroCopyAndCallsDeallocatorOnce) {
  static int calls = 0;
  float* data = new float[6]{1, 2, 3, 4, 5, 6};
  int64_t dims[] = {2, 3};
  loom_tensor* t = nullptr;
  LOOM_ASSERT_OK(loom_tensor_new_from_data(
      LOOM_DTYPE_FLOAT, dims, 2, data, sizeof(float) * 6,
      [](void* d, size_t, void*) {
        ++calls;
        delete[] static_cast<float*>(d);
      },
      nullptr, &t));
  EXPECT_EQ(loom_tensor_data(t), data);
  EXPECT_EQ(loom_tensor_byte_size(t), 24u);
  EXPECT_EQ(loom_tensor_num_elements(t), 6);
  loom_tensor_free(t);
  EXPECT_EQ(calls, 1);
}

TEST(Tensor, WrongByteSizeIsInvalidArgument) {
  float data[4];
  int64_t dims[] = {2, 3};
  loom_tensor* t = nullptr;
  std::string err = Take(loom_tensor_new_from_data(LOOM_DTYPE_FLOAT, dims, 2, data, sizeof(data), nullptr,
                                                   nullptr, &t));
  EXPECT_NE(err.find("needs 24"), std::string::npos) << err;
  EXPECT_EQ(t, nullptr);
}

TEST(Tensor, NegativeDimensionIsInvalidArgument) {
  int64_t dims[] = {2, -3};
  loom_tensor* t = nullptr;
  std::string err = Take(loom_tensor_new(LOOM_DTYPE_FLOAT, dims, 2, &t));
  EXPECT_NE(err.find("negative"), std::string::npos) << err;
}

TEST(Tensor, EmptyTensorsAreValid) {
  int64_t dims[] = {0, 5};
  loom_tensor* t = nullptr;
  LOOM_ASSERT_OK(loom_tensor_new(LOOM_DTYPE_FLOAT, dims, 2, &t));
  EXPECT_EQ(loom_tensor_num_elements(t), 0);
  EXPECT_EQ(loom_tensor_byte_size(t), 0u);
  loom_tensor_free(t);
}

TEST(Status, CodesAndNames) {
  loom_status* s = loom_status_new(LOOM_CODE_DATA_LOSS, "boom");
  EXPECT_EQ(loom_status_code(s), LOOM_CODE_DATA_LOSS);
  EXPECT_STREQ(loom_status_message(s), "boom");
  loom_status_free(s);
  EXPECT_EQ(loom_status_new(LOOM_CODE_OK, "x"), nullptr);
  EXPECT_STREQ(loom_code_name(LOOM_CODE_FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(loom_status_code(nullptr), LOOM_CODE_OK);
  loom_status_free(nullptr);  // accepted
}

TEST(Version, MentionsTheApiVersion) {
  EXPECT_NE(std::string(loom_version()).find(LOOM_API_VERSION), std::string::npos);
}

}  // namespace

namespace {
TEST_F(Graph, StringAttrOutsideItsAllowedSetIsRejected) {
  loom_output x = Const<float>({1, 2}, {1, 2});
  loom_output b = Const<float>({2}, {1, 2});
  loom_op_builder* bld = loom_op_builder_new(g_, "BiasAdd", "bias");
  loom_op_builder_add_input(bld, x);
  loom_op_builder_add_input(bld, b);
  loom_op_builder_set_attr_string(bld, "data_format", "NWHC", 4);
  std::string err = Take(loom_op_builder_finish(bld, nullptr));
  EXPECT_NE(err.find("'NWHC'"), std::string::npos) << err;
  EXPECT_NE(err.find("'NHWC'"), std::string::npos) << err;
}
}  // namespace
