// Gradients of the elementwise, reduction and matrix ops (TensorFlow's
// math_grad.py, written over GradBuilder). Each function builds the gradient
// of its op's inputs from the gradients of its outputs; see op_registry.h.
#include "runtime/autodiff/grad_builder.h"

namespace loom {
namespace {

using B = GradBuilder;

// ---------------------------------------------------------------- unary

REGISTER_GRADIENT("Neg", UnaryGrad([](B& b, Output, Output, Output g) { return b.Neg(g); }));
REGISTER_GRADIENT("Abs", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(g, b.Sign(x));
                  }));
REGISTER_GRADIENT("Exp", UnaryGrad([](B& b, Output, Output y, Output g) { return b.Mul(g, y); }));
REGISTER_GRADIENT("Log", UnaryGrad([](B& b, Output x, Output, Output g) { return b.Div(g, x); }));
REGISTER_GRADIENT("Log1p", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Div(g, b.Add(b.ScalarLike(x, 1), x));
                  }));
REGISTER_GRADIENT("Square", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(g, b.Mul(b.ScalarLike(x, 2), x));
                  }));
REGISTER_GRADIENT("Sqrt", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("SqrtGrad", {y, g});
                  }));
REGISTER_GRADIENT("Rsqrt", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("RsqrtGrad", {y, g});
                  }));
REGISTER_GRADIENT("Reciprocal", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("ReciprocalGrad", {y, g});
                  }));
REGISTER_GRADIENT("Inv", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("ReciprocalGrad", {y, g});
                  }));
REGISTER_GRADIENT("Sigmoid", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("SigmoidGrad", {y, g});
                  }));
REGISTER_GRADIENT("Tanh", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("TanhGrad", {y, g});
                  }));
REGISTER_GRADIENT("Sin", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(g, b.Op("Cos", {x}));
                  }));
REGISTER_GRADIENT("Cos", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Neg(b.Mul(g, b.Op("Sin", {x})));
                  }));
// The rest of TensorFlow's math_grad.py unary rules.
REGISTER_GRADIENT("Erf", UnaryGrad([](B& b, Output x, Output, Output g) {  // 2/sqrt(pi) e^(-x^2)
                    return b.Mul(g, b.Mul(b.ScalarLike(x, 1.1283791670955126),
                                          b.Exp(b.Neg(b.Square(x)))));
                  }));
REGISTER_GRADIENT("Expm1", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(g, b.Exp(x));
                  }));
REGISTER_GRADIENT("Tan", UnaryGrad([](B& b, Output x, Output, Output g) {  // sec^2 x
                    return b.Mul(g, b.Square(b.Reciprocal(b.Op("Cos", {x}))));
                  }));
REGISTER_GRADIENT("Asin", UnaryGrad([](B& b, Output x, Output, Output g) {  // 1/sqrt(1 - x^2)
                    return b.Mul(g, b.Op("Rsqrt", {b.Sub(b.ScalarLike(x, 1), b.Square(x))}));
                  }));
REGISTER_GRADIENT("Acos", UnaryGrad([](B& b, Output x, Output, Output g) {  // -1/sqrt(1 - x^2)
                    return b.Neg(
                        b.Mul(g, b.Op("Rsqrt", {b.Sub(b.ScalarLike(x, 1), b.Square(x))})));
                  }));
REGISTER_GRADIENT("Atan", UnaryGrad([](B& b, Output x, Output, Output g) {  // 1/(1 + x^2)
                    return b.Div(g, b.Add(b.ScalarLike(x, 1), b.Square(x)));
                  }));
REGISTER_GRADIENT("Sinh", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(g, b.Op("Cosh", {x}));
                  }));
REGISTER_GRADIENT("Cosh", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(g, b.Op("Sinh", {x}));
                  }));

// Second-order: gradients of the fused gradient ops. Each is z = f(y, g); the
// gradient w.r.t. g is the same op applied to dz, the one w.r.t. y by hand.

Status SigmoidGradGrad(LOOM_GRAD_ARGS) {  // z = g * y * (1 - y)
  B b(g, op);
  Output y = op->input(0), gr = op->input(1), dz = dy[0];
  Output one = b.ScalarLike(y, 1), two = b.ScalarLike(y, 2);
  (*dx)[0] = b.Mul(b.Mul(dz, gr), b.Sub(one, b.Mul(two, y)));
  (*dx)[1] = b.Op("SigmoidGrad", {y, dz});
  return b.status();
}
REGISTER_GRADIENT("SigmoidGrad", SigmoidGradGrad);

Status TanhGradGrad(LOOM_GRAD_ARGS) {  // z = g * (1 - y^2)
  B b(g, op);
  Output y = op->input(0), gr = op->input(1), dz = dy[0];
  (*dx)[0] = b.Mul(b.Mul(dz, gr), b.Mul(b.ScalarLike(y, -2), y));
  (*dx)[1] = b.Op("TanhGrad", {y, dz});
  return b.status();
}
REGISTER_GRADIENT("TanhGrad", TanhGradGrad);

Status SqrtGradGrad(LOOM_GRAD_ARGS) {  // z = 0.5 * g / y
  B b(g, op);
  Output y = op->input(0), dz = dy[0];
  (*dx)[0] = b.Neg(b.Div(b.Mul(dz, Output{op, 0}), y));
  (*dx)[1] = b.Op("SqrtGrad", {y, dz});
  return b.status();
}
REGISTER_GRADIENT("SqrtGrad", SqrtGradGrad);

Status RsqrtGradGrad(LOOM_GRAD_ARGS) {  // z = -0.5 * g * y^3
  B b(g, op);
  Output y = op->input(0), gr = op->input(1), dz = dy[0];
  (*dx)[0] = b.Mul(b.Mul(dz, gr), b.Mul(b.ScalarLike(y, -1.5), b.Square(y)));
  (*dx)[1] = b.Op("RsqrtGrad", {y, dz});
  return b.status();
}
REGISTER_GRADIENT("RsqrtGrad", RsqrtGradGrad);

Status ReciprocalGradGrad(LOOM_GRAD_ARGS) {  // z = -g * y^2
  B b(g, op);
  Output y = op->input(0), gr = op->input(1), dz = dy[0];
  (*dx)[0] = b.Mul(b.Mul(dz, gr), b.Mul(b.ScalarLike(y, -2), y));
  (*dx)[1] = b.Op("ReciprocalGrad", {y, dz});
  return b.status();
}
REGISTER_GRADIENT("ReciprocalGrad", ReciprocalGradGrad);

// ---------------------------------------------------------------- binary

REGISTER_GRADIENT("Add", BinaryGrad([](B&, Output, Output, Output, Output g, Output* gx,
                                       Output* gy) { *gx = *gy = g; }));
REGISTER_GRADIENT("AddV2", BinaryGrad([](B&, Output, Output, Output, Output g, Output* gx,
                                         Output* gy) { *gx = *gy = g; }));
REGISTER_GRADIENT("Sub", BinaryGrad([](B& b, Output, Output, Output, Output g, Output* gx,
                                       Output* gy) {
                    *gx = g;
                    *gy = b.Neg(g);
                  }));
REGISTER_GRADIENT("Mul", BinaryGrad([](B& b, Output x, Output y, Output, Output g, Output* gx,
                                       Output* gy) {
                    *gx = b.Mul(g, y);
                    *gy = b.Mul(x, g);
                  }));
// z = atan2(y, x) (inputs in that order): dz/dy = x / (x^2 + y^2),
// dz/dx = -y / (x^2 + y^2).
REGISTER_GRADIENT("Atan2", BinaryGrad([](B& b, Output y, Output x, Output, Output g, Output* gy,
                                         Output* gx) {
                    Output scale = b.Div(g, b.Add(b.Square(x), b.Square(y)));
                    *gy = b.Mul(x, scale);
                    *gx = b.Neg(b.Mul(y, scale));
                  }));
void DivGrad(B& b, Output x, Output y, Output, Output g, Output* gx, Output* gy) {
  *gx = b.Div(g, y);
  *gy = b.Mul(g, b.Div(b.Div(b.Neg(x), y), y));
}
REGISTER_GRADIENT("Div", BinaryGrad(DivGrad));
REGISTER_GRADIENT("RealDiv", BinaryGrad(DivGrad));
REGISTER_GRADIENT("SquaredDifference",
                  BinaryGrad([](B& b, Output x, Output y, Output, Output g, Output* gx,
                                Output* gy) {
                    *gx = b.Mul(b.Mul(b.ScalarLike(x, 2), g), b.Sub(x, y));
                    *gy = b.Neg(*gx);
                  }));
// Ties go to x, as in TensorFlow.
REGISTER_GRADIENT("Maximum", BinaryGrad([](B& b, Output x, Output y, Output, Output g,
                                           Output* gx, Output* gy) {
                    Output mask = b.Op("GreaterEqual", {x, y}), zeros = b.ZerosLike(g);
                    *gx = b.Op("SelectV2", {mask, g, zeros});
                    *gy = b.Op("SelectV2", {mask, zeros, g});
                  }));
REGISTER_GRADIENT("Minimum", BinaryGrad([](B& b, Output x, Output y, Output, Output g,
                                           Output* gx, Output* gy) {
                    Output mask = b.Op("LessEqual", {x, y}), zeros = b.ZerosLike(g);
                    *gx = b.Op("SelectV2", {mask, g, zeros});
                    *gy = b.Op("SelectV2", {mask, zeros, g});
                  }));
// z = x^y: dz/dx = y x^(y-1); dz/dy = z log(x), taken as 0 where x <= 0.
REGISTER_GRADIENT("Pow", BinaryGrad([](B& b, Output x, Output y, Output z, Output g, Output* gx,
                                       Output* gy) {
                    *gx = b.Mul(g, b.Mul(y, b.Op("Pow", {x, b.Sub(y, b.ScalarLike(y, 1))})));
                    Output zeros = b.ZerosLike(x);
                    Output positive = b.Op("Greater", {x, zeros});
                    Output safe_x = b.Op("SelectV2", {positive, x, b.OnesLike(x)});
                    Output log_x = b.Op("SelectV2", {positive, b.Log(safe_x), zeros});
                    *gy = b.Mul(b.Mul(g, z), log_x);
                  }));
// x = floor(x / y) * y + mod: dmod/dx = 1, dmod/dy = -floor(x / y).
REGISTER_GRADIENT("FloorMod", BinaryGrad([](B& b, Output x, Output y, Output, Output g,
                                            Output* gx, Output* gy) {
                    *gx = g;
                    *gy = b.Mul(g, b.Neg(b.Op("Floor", {b.Div(x, y)})));
                  }));

Status AddNGrad(LOOM_GRAD_ARGS) {
  for (int i = 0; i < op->num_inputs(); ++i) (*dx)[i] = dy[0];
  return Status::OK();
}
REGISTER_GRADIENT("AddN", AddNGrad);

Status CastGrad(LOOM_GRAD_ARGS) {
  DataType src = op->input_dtype(0), dst = op->output_dtype(0);
  if (!IsDifferentiableType(src) || !IsDifferentiableType(dst)) return Status::OK();
  B b(g, op);
  (*dx)[0] = b.Cast(dy[0], src);
  return b.status();
}
REGISTER_GRADIENT("Cast", CastGrad);

// Select (TF1): cond has the shape of t and e, or is a vector over dim 0.
Status SelectGrad(LOOM_GRAD_ARGS) {
  if (!IsDifferentiableType(op->input_dtype(1))) return Status::OK();
  B b(g, op);
  Output c = op->input(0), zeros = b.ZerosLike(dy[0]);
  (*dx)[1] = b.Select(c, dy[0], zeros);
  (*dx)[2] = b.Select(c, zeros, dy[0]);
  return b.status();
}
REGISTER_GRADIENT("Select", SelectGrad);

// SelectV2 broadcasts all three inputs.
Status SelectV2Grad(LOOM_GRAD_ARGS) {
  if (!IsDifferentiableType(op->input_dtype(1))) return Status::OK();
  B b(g, op);
  Output c = op->input(0), t = op->input(1), e = op->input(2), zeros = b.ZerosLike(dy[0]);
  (*dx)[1] = b.ReduceBroadcastGrad(b.Op("SelectV2", {c, dy[0], zeros}), t, {c, e});
  (*dx)[2] = b.ReduceBroadcastGrad(b.Op("SelectV2", {c, zeros, dy[0]}), e, {c, t});
  return b.status();
}
REGISTER_GRADIENT("SelectV2", SelectV2Grad);

// ---------------------------------------------------------------- reductions

Status SumGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  bool keep = false;
  RETURN_IF_ERROR(op->attrs().GetBool("keep_dims", &keep));
  (*dx)[0] = b.BroadcastReductionGrad(dy[0], op->input(0), op->input(1), keep);
  return b.status();
}
REGISTER_GRADIENT("Sum", SumGrad);

Status MeanGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  bool keep = false;
  RETURN_IF_ERROR(op->attrs().GetBool("keep_dims", &keep));
  Output x = op->input(0), y{op, 0};
  Output sum_grad = b.BroadcastReductionGrad(dy[0], x, op->input(1), keep);
  const PartialShape &xs = StaticShape(x), &ys = StaticShape(y);
  Output count;
  if (xs.fully_defined() && ys.fully_defined()) {
    int64_t nx = 1, ny = 1;
    for (int64_t d : xs.dims()) nx *= d;
    for (int64_t d : ys.dims()) ny *= d;
    count = b.ScalarLike(x, ny == 0 ? 1.0 : static_cast<double>(nx) / static_cast<double>(ny));
  } else {
    DataType dt = B::DType(x);
    count = b.Div(b.Cast(b.Size(x), dt), b.Cast(b.Size(y), dt));
  }
  (*dx)[0] = b.Div(sum_grad, count);
  return b.status();
}
REGISTER_GRADIENT("Mean", MeanGrad);

// Max/Min: the gradient goes to the elements equal to the result, split evenly
// between ties (TensorFlow's rule).
Status MaxMinGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  bool keep = false;
  RETURN_IF_ERROR(op->attrs().GetBool("keep_dims", &keep));
  Output x = op->input(0), axes = op->input(1), y{op, 0};
  Output dyk = dy[0], yk = y;
  if (!keep) {
    Output kept = b.KeptShape(x, axes);
    dyk = b.Reshape(dy[0], kept);
    yk = b.Reshape(y, kept);
  }
  Output eq = b.Cast(b.Op("Equal", {x, yk}), B::DType(x));
  Output num = b.Sum(eq, axes, true);
  (*dx)[0] = b.Mul(b.Div(eq, num), dyk);
  return b.status();
}
REGISTER_GRADIENT("Max", MaxMinGrad);
REGISTER_GRADIENT("Min", MaxMinGrad);

// Prod: dy * prod / x. Exact for nonzero inputs (TensorFlow's cumprod-based
// form, exact at zeros too, needs Cumprod, which the op set lacks).
Status ProdGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  bool keep = false;
  RETURN_IF_ERROR(op->attrs().GetBool("keep_dims", &keep));
  Output x = op->input(0), axes = op->input(1);
  // d prod / d x_i is the product of the others. y / x_i gives it only where
  // the group has no zero; with zeros counted per group (zeros replaced by 1
  // in x1, so nothing divides by zero): no zero -> prod(x1) / x1; one zero ->
  // prod(x1) at the zero, 0 elsewhere; more -> 0. Arithmetic masks only, so
  // every device with Prod, Sum, Equal and Cast runs it.
  const DataType t = x.node->output_dtype(x.index);
  Output dyb = b.BroadcastReductionGrad(dy[0], x, axes, keep);
  Output zero = b.Cast(b.Op("Equal", {x, b.ScalarLike(x, 0)}), t);
  Output x1 = b.Add(x, zero);
  auto group = [&](const char* reduce, Output v) {
    return b.BroadcastReductionGrad(b.Op(reduce, {v, axes}, {{"keep_dims", AttrValue::Bool(keep)}}), x, axes,
                                    keep);
  };
  Output zeros = group("Sum", zero);
  Output others = group("Prod", x1);
  Output none = b.Cast(b.Op("Equal", {zeros, b.ScalarLike(zeros, 0)}), t);
  Output one = b.Cast(b.Op("Equal", {zeros, b.ScalarLike(zeros, 1)}), t);
  Output d = b.Add(b.Mul(none, b.Div(others, x1)), b.Mul(b.Mul(one, zero), others));
  (*dx)[0] = b.Mul(dyb, d);
  return b.status();
}
REGISTER_GRADIENT("Prod", ProdGrad);

Status CumsumGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  bool exclusive = false, reverse = false;
  RETURN_IF_ERROR(op->attrs().GetBool("exclusive", &exclusive));
  RETURN_IF_ERROR(op->attrs().GetBool("reverse", &reverse));
  (*dx)[0] = b.Op("Cumsum", {dy[0], op->input(1)},
                  {{"exclusive", AttrValue::Bool(exclusive)},
                   {"reverse", AttrValue::Bool(!reverse)}});
  return b.status();
}
REGISTER_GRADIENT("Cumsum", CumsumGrad);

// ---------------------------------------------------------------- matrices

// The four transpose cases of C = op(A) op(B), shared by MatMul and
// BatchMatMul: returns dA, dB before any batch reduction.
void MatMulGrads(B& b, const std::string& type, const char* ta_name, const char* tb_name,
                 Output a, Output bm, bool ta, bool tb, Output g, Output* da, Output* db) {
  auto mm = [&](Output x, Output y, bool tx, bool ty) {
    return b.Op(type, {x, y}, {{ta_name, AttrValue::Bool(tx)}, {tb_name, AttrValue::Bool(ty)}});
  };
  if (!ta && !tb) {
    *da = mm(g, bm, false, true);
    *db = mm(a, g, true, false);
  } else if (!ta && tb) {
    *da = mm(g, bm, false, false);
    *db = mm(g, a, true, false);
  } else if (ta && !tb) {
    *da = mm(bm, g, false, true);
    *db = mm(a, g, false, false);
  } else {
    *da = mm(bm, g, true, true);
    *db = mm(g, a, true, true);
  }
}

Status MatMulGrad(LOOM_GRAD_ARGS) {
  if (!IsDifferentiableType(op->input_dtype(0))) return Status::OK();
  B b(g, op);
  bool ta = false, tb = false;
  RETURN_IF_ERROR(op->attrs().GetBool("transpose_a", &ta));
  RETURN_IF_ERROR(op->attrs().GetBool("transpose_b", &tb));
  MatMulGrads(b, "MatMul", "transpose_a", "transpose_b", op->input(0), op->input(1), ta, tb,
              dy[0], &(*dx)[0], &(*dx)[1]);
  return b.status();
}
REGISTER_GRADIENT("MatMul", MatMulGrad);

// Sums a batch-matmul gradient over the batch dims that x was broadcast along.
Output ReduceBatchDims(B& b, Output grad, Output x, Output other) {
  const PartialShape &xs = StaticShape(x), &os = StaticShape(other);
  if (xs.rank_known() && os.rank_known() && xs.rank() >= 2 && os.rank() >= 2) {
    PartialShape xb(std::vector<int64_t>(xs.dims().begin(), xs.dims().end() - 2));
    PartialShape ob(std::vector<int64_t>(os.dims().begin(), os.dims().end() - 2));
    std::vector<int64_t> axes;
    bool inner = false;
    if (StaticBroadcastAxes(xb, {ob}, &axes, &inner)) {
      if (axes.empty()) return grad;
      return b.Reshape(b.Sum(grad, axes), b.ShapeOf(x));
    }
  }
  auto batch = [&](Output s) {
    return b.Op("StridedSlice", {s, b.Int32s({0}), b.Int32s({-2}), b.Int32s({1})});
  };
  Output sx = b.ShapeOf(x);
  std::vector<Output> r = b.OpN("BroadcastGradientArgs", {batch(sx), batch(b.ShapeOf(other))});
  if (r.empty()) return Output();
  return b.Reshape(b.Sum(grad, r[0]), sx);
}

Status BatchMatMulGrad(LOOM_GRAD_ARGS) {
  if (!IsDifferentiableType(op->input_dtype(0))) return Status::OK();
  B b(g, op);
  bool ax = false, ay = false;
  RETURN_IF_ERROR(op->attrs().GetBool("adj_x", &ax));
  RETURN_IF_ERROR(op->attrs().GetBool("adj_y", &ay));
  Output x = op->input(0), y = op->input(1), gx, gy;
  MatMulGrads(b, op->type(), "adj_x", "adj_y", x, y, ax, ay, dy[0], &gx, &gy);
  if (op->type() == "BatchMatMul") {  // no broadcasting of batch dims
    (*dx)[0] = gx;
    (*dx)[1] = gy;
  } else {
    (*dx)[0] = ReduceBatchDims(b, gx, x, y);
    (*dx)[1] = ReduceBatchDims(b, gy, y, x);
  }
  return b.status();
}
REGISTER_GRADIENT("BatchMatMul", BatchMatMulGrad);
REGISTER_GRADIENT("BatchMatMulV2", BatchMatMulGrad);

// ---------------------------------------------------------------- none

REGISTER_NO_GRADIENT("Sign");
REGISTER_NO_GRADIENT("Floor");
REGISTER_NO_GRADIENT("Ceil");
REGISTER_NO_GRADIENT("Round");
REGISTER_NO_GRADIENT("FloorDiv");
REGISTER_NO_GRADIENT("ArgMax");
REGISTER_NO_GRADIENT("ArgMin");
REGISTER_NO_GRADIENT("Equal");
REGISTER_NO_GRADIENT("NotEqual");
REGISTER_NO_GRADIENT("Less");
REGISTER_NO_GRADIENT("LessEqual");
REGISTER_NO_GRADIENT("Greater");
REGISTER_NO_GRADIENT("GreaterEqual");
REGISTER_NO_GRADIENT("LogicalAnd");
REGISTER_NO_GRADIENT("LogicalOr");
REGISTER_NO_GRADIENT("LogicalNot");
REGISTER_NO_GRADIENT("Range");

}  // namespace
}  // namespace loom
