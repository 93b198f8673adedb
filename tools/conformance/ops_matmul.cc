// MatMul, BatchMatMul, BatchMatMulV2.
//
// Tolerance. A K-term dot product computed in any order (blocked, FMA or
// not) is within K*u*sum_k |a_k b_k| of the exact value (u = 2^-24; Higham,
// "Accuracy and Stability of Numerical Algorithms", 3.1); two such results
// differ by at most twice that. With |a|, |b| <= 1 the sum is <= K, so
//   atol = 2 * K^2 * u
// is a bound no correct kernel exceeds, while an indexing or transpose bug
// shows up as an error of the size of the values themselves (~0.1-1).
#include <string>

#include "conformance.h"

namespace conformance {

namespace {

Tol DotTol(int64_t k) {
  static std::string why = "2*K^2*u: the rounding bound of K-term dot products in any order";
  return Summed(2.0 * static_cast<double>(k * k) * 0x1p-24, 0, why.c_str());
}

Case MM(const char* name, std::vector<int64_t> a, std::vector<int64_t> b, bool ta, bool tb,
        int64_t k) {
  Case c;
  c.op = "MatMul";
  c.name = name;
  c.inputs = {Uniform(std::move(a)), Uniform(std::move(b))};
  c.attrs = [ta, tb](loom_op_builder* bd) {
    loom_op_builder_set_attr_bool(bd, "transpose_a", ta);
    loom_op_builder_set_attr_bool(bd, "transpose_b", tb);
  };
  c.tol = DotTol(k);
  return c;
}

Case BMM(const char* op, const char* name, std::vector<int64_t> a, std::vector<int64_t> b,
         bool adj_x, bool adj_y, int64_t k) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {Uniform(std::move(a)), Uniform(std::move(b))};
  c.attrs = [adj_x, adj_y](loom_op_builder* bd) {
    loom_op_builder_set_attr_bool(bd, "adj_x", adj_x);
    loom_op_builder_set_attr_bool(bd, "adj_y", adj_y);
  };
  c.tol = DotTol(k);
  return c;
}

}  // namespace

std::vector<Case> MatMulCases() {
  std::vector<Case> v = {
      MM("small", {2, 3}, {3, 4}, false, false, 3),
      MM("tile_multiple", {64, 32}, {32, 64}, false, false, 32),
      MM("ragged_edges", {67, 45}, {45, 93}, false, false, 45),
      MM("transpose_a", {45, 67}, {45, 30}, true, false, 45),
      MM("transpose_b", {37, 50}, {29, 50}, false, true, 50),
      MM("transpose_both", {50, 37}, {29, 50}, true, true, 50),
      MM("mlp_layer", {100, 784}, {784, 256}, false, false, 784),
      MM("mlp_weight_grad", {100, 784}, {100, 256}, true, false, 100),
      MM("mlp_input_grad", {100, 256}, {784, 256}, false, true, 256),
      MM("vector_times_matrix", {1, 300}, {300, 17}, false, false, 300),
      MM("matrix_times_vector", {19, 300}, {300, 1}, false, false, 300),
      MM("packed_b_with_edges", {70, 300}, {300, 530}, false, false, 300),
      MM("packed_transposed_b_with_edges", {70, 120}, {530, 120}, false, true, 120),
      MM("empty_inner", {3, 0}, {0, 4}, false, false, 0),
      MM("empty_rows", {0, 5}, {5, 4}, false, false, 5),
      BMM("BatchMatMul", "batched", {3, 20, 30}, {3, 30, 10}, false, false, 30),
      BMM("BatchMatMul", "adjoints", {2, 2, 30, 20}, {2, 2, 10, 30}, true, true, 30),
      BMM("BatchMatMulV2", "broadcast_batch", {4, 1, 9, 12}, {3, 12, 7}, false, false, 12),
      BMM("BatchMatMulV2", "broadcast_packed_adj_y", {2, 1, 20, 33}, {3, 40, 33}, false, true, 33),
      BMM("BatchMatMulV2", "rank2", {9, 12}, {12, 7}, false, true, 7),
  };
  // transpose_b above multiplies [9,12] by [12,7]^T: fix the shapes to agree.
  v.back().inputs[1] = Uniform({7, 12});
  v.back().tol = DotTol(12);
  Case bad = MM("incompatible", {2, 3}, {4, 5}, false, false, 3);
  bad.error = "INVALID_ARGUMENT";
  v.push_back(bad);
  return v;
}

}  // namespace conformance
