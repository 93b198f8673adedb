// Elementwise kernels: unary math (vectorised through Eigen arrays), binary
// ops with numpy broadcasting, comparisons and logic, the activation
// gradients, Select/SelectV2, Cast, AddN, BiasAdd, ZerosLike/OnesLike.
#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Core>

#include "kernels.h"

namespace loom_cpu {
namespace {

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// ---------------------------------------------------------------- unary

// Selu's constants, as TensorFlow's kernel has them (Klambauer et al., 2017).
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluScaleAlpha = 1.7580993408473768599402175208123;

// Each op: apply(x) on an Eigen array expression, kCost cycles per element.
#define LOOM_UNARY_OP(NAME, COST, EXPR)               \
  struct NAME {                                       \
    static constexpr int64_t kCost = COST;            \
    template <typename A>                             \
    static auto apply(const A& x) {                   \
      using T = typename A::Scalar;                   \
      (void)sizeof(T);                                \
      return EXPR;                                    \
    }                                                 \
  };

LOOM_UNARY_OP(NegOp, 1, -x)
LOOM_UNARY_OP(AbsOp, 1, x.abs())
LOOM_UNARY_OP(ExpOp, 20, x.exp())
LOOM_UNARY_OP(LogOp, 20, x.log())
LOOM_UNARY_OP(Log1pOp, 25, x.log1p())
LOOM_UNARY_OP(SqrtOp, 8, x.sqrt())
LOOM_UNARY_OP(RsqrtOp, 10, x.rsqrt())
LOOM_UNARY_OP(SquareOp, 1, x.square())
LOOM_UNARY_OP(ReluOp, 1, x.max(T(0)))
LOOM_UNARY_OP(SigmoidOp, 25, x.logistic())
LOOM_UNARY_OP(TanhOp, 25, x.tanh())
LOOM_UNARY_OP(ReciprocalOp, 5, x.inverse())
LOOM_UNARY_OP(SignOp, 2, x.sign())
LOOM_UNARY_OP(FloorOp, 2, x.floor())
LOOM_UNARY_OP(CeilOp, 2, x.ceil())
LOOM_UNARY_OP(RoundOp, 2, x.rint())  // half to even, as TensorFlow
// log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).
LOOM_UNARY_OP(SoftplusOp, 50, x.max(T(0)) + (-x.abs()).exp().log1p())
LOOM_UNARY_OP(SinOp, 20, x.sin())
LOOM_UNARY_OP(CosOp, 20, x.cos())
LOOM_UNARY_OP(ErfOp, 40, x.unaryExpr([](T v) { return std::erf(v); }))
// Math that Eigen arrays have as a member function of the same name.
#define LOOM_EIGEN_MEMBER_OP(NAME, FN) LOOM_UNARY_OP(NAME, 30, x.FN())
LOOM_EIGEN_MEMBER_OP(Expm1Op, expm1) LOOM_EIGEN_MEMBER_OP(TanOp, tan)
LOOM_EIGEN_MEMBER_OP(AsinOp, asin) LOOM_EIGEN_MEMBER_OP(AcosOp, acos)
LOOM_EIGEN_MEMBER_OP(AtanOp, atan) LOOM_EIGEN_MEMBER_OP(SinhOp, sinh)
LOOM_EIGEN_MEMBER_OP(CoshOp, cosh)
#undef LOOM_EIGEN_MEMBER_OP
LOOM_UNARY_OP(Relu6Op, 2, x.max(T(0)).min(T(6)))
// Elu and Selu as TensorFlow computes them: exp(x) - 1 on the negative side.
LOOM_UNARY_OP(EluOp, 25, (x < T(0)).select(x.exp() - T(1), x))
LOOM_UNARY_OP(SeluOp, 25,
              (x < T(0)).select(T(kSeluScaleAlpha) * (x.exp() - T(1)), T(kSeluScale) * x))
LOOM_UNARY_OP(SoftsignOp, 6, x / (x.abs() + T(1)))
#undef LOOM_UNARY_OP

// Ops with one float attr (LeakyRelu's alpha) name it kAttr, its default
// kAttrDefault, and take its value as apply's last argument.
struct LeakyReluOp {
  static constexpr int64_t kCost = 2;
  static constexpr const char* kAttr = "alpha";
  static constexpr float kAttrDefault = 0.2f;
  template <typename A>
  static auto apply(const A& x, float alpha) {
    using T = typename A::Scalar;
    return (x > T(0)).select(x, x * T(alpha));
  }
};

template <typename Op, typename = void>
struct HasFloatAttr : std::false_type {};
template <typename Op>
struct HasFloatAttr<Op, std::void_t<decltype(Op::kAttr)>> : std::true_type {};

// Reads the op's attr, once per compute (0 for ops without one).
template <typename Op>
loom_status* ReadOpAttr(const Kernel& k, float* v) {
  *v = 0;
  if constexpr (HasFloatAttr<Op>::value) return k.attr(Op::kAttr, v, Op::kAttrDefault);
  return nullptr;
}

template <typename Op, typename... A>
auto ApplyOp(float attr, const A&... args) {
  if constexpr (HasFloatAttr<Op>::value) {
    return Op::apply(args..., attr);
  } else {
    (void)attr;
    return Op::apply(args...);
  }
}

// Integer Round/Floor/Ceil are the identity; Eigen has no rint for ints.
template <typename Op, typename T>
constexpr bool kIdentityOnInts =
    std::is_integral_v<T> && (std::is_same_v<Op, FloorOp> || std::is_same_v<Op, CeilOp> ||
                              std::is_same_v<Op, RoundOp>);

template <typename Op, typename Types>
loom_status* Unary(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  return Dispatch(Types{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    if constexpr (kIdentityOnInts<Op, T>) {
      return k.forward(0, 0, x.shape());
    } else {
      float attr;
      LOOM_RETURN_IF_ERROR(ReadOpAttr<Op>(k, &attr));
      Tensor y;
      LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
      const T* in = x.as<const T>();
      T* out = y.as<T>();
      k.parallel_for(x.size, Op::kCost, [&](int64_t b, int64_t e) {
        ConstArrayMap<T> xi(in + b, e - b);
        ArrayMap<T> yo(out + b, e - b);
        yo = ApplyOp<Op>(attr, xi);
      });
      return nullptr;
    }
  });
}

// ---------------------------------------------------------------- binary

// Each op: T f(T a, T b) (or bool for comparisons). Check(b, n) may refuse
// inputs (integer division by zero).
template <typename T>
T WrappingNeg(T x) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(U(0) - static_cast<U>(x));
}

struct AddOp { static constexpr int64_t kCost = 1; template <typename T> static T f(T a, T b) { return a + b; } };
struct SubOp { static constexpr int64_t kCost = 1; template <typename T> static T f(T a, T b) { return a - b; } };
struct MulOp { static constexpr int64_t kCost = 1; template <typename T> static T f(T a, T b) { return a * b; } };
struct MaximumOp { static constexpr int64_t kCost = 1; template <typename T> static T f(T a, T b) { return a < b ? b : a; } };
struct MinimumOp { static constexpr int64_t kCost = 1; template <typename T> static T f(T a, T b) { return b < a ? b : a; } };
struct SquaredDifferenceOp {
  static constexpr int64_t kCost = 2;
  template <typename T> static T f(T a, T b) { return (a - b) * (a - b); }
};
struct DivOp {  // truncating for integers, like C and TensorFlow's Div
  static constexpr int64_t kCost = 4;
  static constexpr bool kIntDivision = true;
  template <typename T> static T f(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == T(-1)) return WrappingNeg(a);
    }
    return a / b;
  }
};
struct FloorDivOp {
  static constexpr int64_t kCost = 6;
  static constexpr bool kIntDivision = true;
  template <typename T> static T f(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == T(-1)) return WrappingNeg(a);
      T q = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      return q;
    } else {
      return std::floor(a / b);
    }
  }
};
struct FloorModOp {  // the result has the sign of the divisor, as Python's %
  static constexpr int64_t kCost = 6;
  static constexpr bool kIntDivision = true;
  template <typename T> static T f(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == T(-1)) return T(0);
      T r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    } else {
      T r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
  }
};
struct Atan2Op {  // (y, x), as TensorFlow
  static constexpr int64_t kCost = 40;
  template <typename T> static T f(T y, T x) { return std::atan2(y, x); }
};
struct PowOp {
  static constexpr int64_t kCost = 40;
  template <typename T> static T f(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      T r = 1;  // b >= 0 checked before
      while (b > 0) {
        if (b & 1) r = static_cast<T>(r * a);
        a = static_cast<T>(a * a);
        b >>= 1;
      }
      return r;
    } else {
      return std::pow(a, b);
    }
  }
};
struct EqualOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a == b; } };
struct NotEqualOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a != b; } };
struct LessOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a < b; } };
struct LessEqualOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a <= b; } };
struct GreaterOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a > b; } };
struct GreaterEqualOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a >= b; } };
struct LogicalAndOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a && b; } };
struct LogicalOrOp { static constexpr int64_t kCost = 1; template <typename T> static bool f(T a, T b) { return a || b; } };

template <typename Op, typename = void>
struct IsIntDivision : std::false_type {};
template <typename Op>
struct IsIntDivision<Op, std::void_t<decltype(Op::kIntDivision)>> : std::true_type {};

// Refuses right-hand operands that TensorFlow refuses for integers: a zero
// divisor, a negative exponent. Only called when the result has elements.
template <typename Op, typename T>
loom_status* CheckOperands(const T* bp, int64_t n) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if constexpr (IsIntDivision<Op>::value) {
      for (int64_t i = 0; i < n; ++i)
        if (bp[i] == 0) return InvalidArgument("Integer division by zero");
    }
    if constexpr (std::is_same_v<Op, PowOp>) {
      for (int64_t i = 0; i < n; ++i)
        if (bp[i] < 0)
          return InvalidArgument("Integers to negative integer powers are not allowed");
    }
  }
  (void)bp;
  (void)n;
  return nullptr;
}

// One row: a and b step by 1 (sa/sb true) or stay put (broadcast).
template <typename Op, typename T, typename R>
void BinaryRow(const T* a, bool sa, const T* b, bool sb, R* o, int64_t n) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], b[i]);
  } else if (sa) {
    const T y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], y);
  } else if (sb) {
    const T x = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(x, b[i]);
  } else {
    const R v = Op::f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

template <typename Op, typename T, typename R>
void RunBinary(const Kernel& k, const Broadcast& bc, const T* a, const T* b, R* o) {
  const bool sa = bc.inner_contiguous(0), sb = bc.inner_contiguous(1);
  const int64_t inner = bc.inner();
  if (bc.rank == 1) {  // same shape or scalar vs tensor: split the one row
    k.parallel_for(inner, Op::kCost, [&](int64_t s, int64_t e) {
      BinaryRow<Op>(a + (sa ? s : 0), sa, b + (sb ? s : 0), sb, o + s, e - s);
    });
    return;
  }
  k.parallel_for(bc.rows(), inner * Op::kCost + 5, [&](int64_t s, int64_t e) {
    bc.ForRows(s, e, [&](int64_t row, const int64_t* off) {
      BinaryRow<Op>(a + off[0], sa, b + off[1], sb, o + row * inner, inner);
    });
  });
}

template <typename Op, typename Types, bool kBoolOut = false>
loom_status* Binary(loom_kernel_context* c) {
  Kernel k(c);
  Tensor a = k.input(0), b = k.input(1);
  if (a.dtype != b.dtype) {
    return InvalidArgument("both inputs must have the same dtype, got ", DtypeName(a.dtype),
                           " and ", DtypeName(b.dtype));
  }
  // Same shapes (the common case) need no broadcast plan: one flat row.
  Broadcast bc;
  if (a.same_shape(b)) {
    bc.num_inputs = 2;
    bc.out = a.shape();
    bc.rank = 1;
    bc.dims[0] = a.size;
    bc.strides[0][0] = bc.strides[1][0] = 1;
  } else {
    const Tensor* in[2] = {&a, &b};
    LOOM_RETURN_IF_ERROR(BroadcastInputs(in, 2, &bc));
  }
  return Dispatch(Types{}, a.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    using R = std::conditional_t<kBoolOut, bool, T>;
    Tensor out;
    if constexpr (kBoolOut) {
      LOOM_RETURN_IF_ERROR(k.allocate(0, bc.out, &out));
    } else {
      LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0, 1}, 0, bc.out, &out));
    }
    // An empty result reads no operand pair, so no divisor or exponent is
    // checked (as in TensorFlow): a scalar's Sum gradient computes
    // (axes + rank) % rank with rank 0 on zero axes.
    if (out.size == 0) return nullptr;
    LOOM_RETURN_IF_ERROR(CheckOperands<Op>(b.as<const T>(), b.size));
    RunBinary<Op, T, R>(k, bc, a.as<const T>(), b.as<const T>(), out.as<R>());
    return nullptr;
  });
}

// ---------------------------------------------------------------- activation gradients

// (a, b) -> out, same shapes; Eigen expressions so exp & co vectorise.
#define LOOM_GRAD_OP(NAME, COST, EXPR)                 \
  struct NAME {                                        \
    static constexpr int64_t kCost = COST;             \
    template <typename A, typename B>                  \
    static auto apply(const A& a, const B& b) {        \
      using T = typename A::Scalar;                    \
      (void)sizeof(T);                                 \
      return EXPR;                                     \
    }                                                  \
  };
LOOM_GRAD_OP(ReluGradOp, 2, (b > T(0)).select(a, T(0)))          // (gradients, features)
LOOM_GRAD_OP(SigmoidGradOp, 3, b * a * (T(1) - a))               // (y, dy)
LOOM_GRAD_OP(TanhGradOp, 3, b * (T(1) - a * a))                  // (y, dy)
LOOM_GRAD_OP(SqrtGradOp, 5, b * T(0.5) / a)                      // (y, dy)
LOOM_GRAD_OP(RsqrtGradOp, 4, b * a * a * a * T(-0.5))            // (y, dy)
LOOM_GRAD_OP(ReciprocalGradOp, 3, -b * a * a)                    // (y, dy)
LOOM_GRAD_OP(SoftplusGradOp, 25, a / ((-b).exp() + T(1)))        // (gradients, features)
LOOM_GRAD_OP(Relu6GradOp, 3, (b > T(0) && b < T(6)).select(a, T(0)))  // (gradients, features)
LOOM_GRAD_OP(EluGradOp, 3, (b < T(0)).select(a * (b + T(1)), a))      // (gradients, outputs)
LOOM_GRAD_OP(SeluGradOp, 3,                                           // (gradients, outputs)
             (b < T(0)).select(a * (b + T(kSeluScaleAlpha)), a * T(kSeluScale)))
LOOM_GRAD_OP(SoftsignGradOp, 6, a / (b.abs() + T(1)).square())      // (gradients, features)
#undef LOOM_GRAD_OP

struct LeakyReluGradOp {  // (gradients, features)
  static constexpr int64_t kCost = 2;
  static constexpr const char* kAttr = "alpha";
  static constexpr float kAttrDefault = 0.2f;
  template <typename A, typename B>
  static auto apply(const A& a, const B& b, float alpha) {
    using T = typename A::Scalar;
    return (b > T(0)).select(a, a * T(alpha));
  }
};

template <typename Op, typename Types>
loom_status* SameShapeBinary(loom_kernel_context* c) {
  Kernel k(c);
  Tensor a = k.input(0), b = k.input(1);
  LOOM_RETURN_IF_ERROR(loom::kit::CheckSameDtypeAndShape(a, b));
  float attr;
  LOOM_RETURN_IF_ERROR(ReadOpAttr<Op>(k, &attr));
  return Dispatch(Types{}, a.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    Tensor out;
    LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0, 1}, 0, a.shape(), &out));
    const T* ap = a.as<const T>();
    const T* bp = b.as<const T>();
    T* op = out.as<T>();
    k.parallel_for(a.size, Op::kCost, [&](int64_t s, int64_t e) {
      ArrayMap<T>(op + s, e - s) =
          ApplyOp<Op>(attr, ConstArrayMap<T>(ap + s, e - s), ConstArrayMap<T>(bp + s, e - s));
    });
    return nullptr;
  });
}

// ---------------------------------------------------------------- select

template <typename U>
void SelectRows(const Kernel& k, const bool* cond, int64_t rows, int64_t inner, const U* t,
                const U* e, U* o) {
  k.parallel_for(rows, inner + 2, [&](int64_t s, int64_t end) {
    for (int64_t r = s; r < end; ++r) {
      const U* src = (cond[r] ? t : e) + r * inner;
      U* dst = o + r * inner;
      if (src != dst) std::memcpy(dst, src, static_cast<size_t>(inner) * sizeof(U));
    }
  });
}

loom_status* SelectImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor cond = k.input(0), t = k.input(1), e = k.input(2);
  if (!t.same_shape(e)) {
    return InvalidArgument("'then' and 'else' must have the same size.  but received: ",
                           t.shape_str(), " vs. ", e.shape_str());
  }
  const bool* cp = cond.as<const bool>();
  int64_t rows, inner;
  if (cond.same_shape(t)) {
    rows = t.size;
    inner = 1;
  } else if (cond.rank == 0) {
    rows = 1;
    inner = t.size;
  } else if (cond.rank == 1 && t.rank >= 1 && cond.dim(0) == t.dim(0)) {
    rows = cond.dim(0);
    inner = rows == 0 ? 0 : t.size / rows;
  } else {
    return InvalidArgument("'condition' must be a scalar, a vector of size ",
                           t.rank >= 1 ? t.dim(0) : 1,
                           " or have the same shape as 'then'; condition: ", cond.shape_str(),
                           ", then: ", t.shape_str());
  }
  Tensor out;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({1, 2}, 0, t.shape(), &out));
  if (out.size == 0) return nullptr;
  return DispatchBySize(t.dtype, [&](auto zero) -> loom_status* {
    using U = decltype(zero);
    const U* tp = t.as<const U>();
    const U* ep = e.as<const U>();
    U* op = out.as<U>();
    if (inner == 1) {
      k.parallel_for(rows, 2, [&](int64_t s, int64_t end) {
        for (int64_t i = s; i < end; ++i) op[i] = cp[i] ? tp[i] : ep[i];
      });
    } else {
      SelectRows(k, cp, rows, inner, tp, ep, op);
    }
    return nullptr;
  });
}

loom_status* SelectV2Impl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor cond = k.input(0), t = k.input(1), e = k.input(2);
  Broadcast bc;
  const Tensor* in[3] = {&cond, &t, &e};
  LOOM_RETURN_IF_ERROR(BroadcastInputs(in, 3, &bc));
  Tensor out;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({1, 2}, 0, bc.out, &out));
  if (out.size == 0) return nullptr;
  return DispatchBySize(t.dtype, [&](auto zero) -> loom_status* {
    using U = decltype(zero);
    const bool* cp = cond.as<const bool>();
    const U* tp = t.as<const U>();
    const U* ep = e.as<const U>();
    U* op = out.as<U>();
    const int64_t inner = bc.inner();
    const int64_t sc = bc.inner_contiguous(0), st = bc.inner_contiguous(1),
                  se = bc.inner_contiguous(2);
    auto row = [&](int64_t r, const int64_t* off) {
      const bool* cr = cp + off[0];
      const U* tr = tp + off[1];
      const U* er = ep + off[2];
      U* o = op + r * inner;
      for (int64_t i = 0; i < inner; ++i) o[i] = cr[i * sc] ? tr[i * st] : er[i * se];
    };
    k.parallel_for(bc.rows(), inner * 2 + 5,
                   [&](int64_t s, int64_t end) { bc.ForRows(s, end, row); });
    return nullptr;
  });
}

// ---------------------------------------------------------------- cast

template <typename D, typename S>
D CastOne(S s) {
  if constexpr (std::is_same_v<D, bool>) {
    return s != S(0);
  } else {
    return static_cast<D>(s);
  }
}

loom_status* CastImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  const loom_dtype dst = k.output_dtype(0);
  if (dst == x.dtype) return k.forward(0, 0, x.shape());
  return Dispatch(CastTypes{}, x.dtype, [&](auto szero) -> loom_status* {
    using S = decltype(szero);
    return Dispatch(CastTypes{}, dst, [&](auto dzero) -> loom_status* {
      using D = decltype(dzero);
      Tensor y;
      LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
      const S* in = x.as<const S>();
      D* out = y.as<D>();
      k.parallel_for(x.size, 1, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) out[i] = CastOne<D>(in[i]);
      });
      return nullptr;
    });
  });
}

// ---------------------------------------------------------------- AddN, BiasAdd, *Like

loom_status* AddNImpl(loom_kernel_context* c) {
  Kernel k(c);
  const int n = k.num_inputs();
  std::vector<Tensor> in(static_cast<size_t>(n));
  std::vector<int> candidates(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    in[i] = k.input(i);
    candidates[i] = i;
    if (!in[i].same_shape(in[0]) || in[i].dtype != in[0].dtype) {
      return InvalidArgument("inputs must have the same dtype and shape: input 0 is ",
                             DtypeName(in[0].dtype), in[0].shape_str(), ", input ", i, " is ",
                             DtypeName(in[i].dtype), in[i].shape_str());
    }
  }
  Tensor out;
  LOOM_RETURN_IF_ERROR(
      k.forward_or_allocate(candidates.data(), n, 0, in[0].shape(), &out));
  return Dispatch(NumericTypes{}, in[0].dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    T* o = out.as<T>();
    // The output may alias one input (forwarded): start from that one, so it
    // is read before it is written; add the others after.
    int first = 0;
    for (int j = 0; j < n; ++j)
      if (in[j].data == out.data) first = j;
    k.parallel_for(out.size, n, [&](int64_t s, int64_t e) {
      ArrayMap<T> om(o + s, e - s);
      if (in[first].data != out.data) om = ConstArrayMap<T>(in[first].as<const T>() + s, e - s);
      for (int j = 0; j < n; ++j)
        if (j != first) om += ConstArrayMap<T>(in[j].as<const T>() + s, e - s);
    });
    return nullptr;
  });
}

loom_status* BiasAddImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor v = k.input(0), bias = k.input(1);
  std::string fmt;
  LOOM_RETURN_IF_ERROR(k.attr_string("data_format", &fmt, "NHWC"));
  if (v.rank < 2) {
    return InvalidArgument("Input tensor must be at least 2D: ", v.shape_str());
  }
  if (bias.rank != 1) {
    return InvalidArgument("Biases must be 1D: ", bias.shape_str());
  }
  const bool nchw = fmt == "NCHW";
  const int cdim = nchw ? 1 : v.rank - 1;
  if (bias.dim(0) != v.dim(cdim)) {
    return InvalidArgument("Must provide as many biases as the channel dimension of the input "
                           "tensor: ", bias.shape_str(), " vs. ", v.shape_str());
  }
  Tensor out;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, v.shape(), &out));
  if (out.size == 0) return nullptr;
  const int64_t channels = bias.dim(0);
  int64_t inner = 1;  // elements per (row, channel)
  for (int i = cdim + 1; i < v.rank; ++i) inner *= v.dim(i);
  return Dispatch(NumericTypes{}, v.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* vp = v.as<const T>();
    const T* bp = bias.as<const T>();
    T* op = out.as<T>();
    const int64_t row = channels * inner;
    k.parallel_for(v.size / row, row, [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        const T* vi = vp + r * row;
        T* oi = op + r * row;
        if (inner == 1) {
          for (int64_t j = 0; j < channels; ++j) oi[j] = vi[j] + bp[j];
        } else {
          for (int64_t j = 0; j < channels; ++j)
            for (int64_t i = 0; i < inner; ++i) oi[j * inner + i] = vi[j * inner + i] + bp[j];
        }
      }
    });
    return nullptr;
  });
}

template <int kValue>
loom_status* FillLike(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  return Dispatch(FillTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    Tensor y;
    LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
    T* o = y.as<T>();
    const T v = static_cast<T>(kValue);
    k.parallel_for(y.size, 1, [&](int64_t s, int64_t e) { std::fill(o + s, o + e, v); });
    return nullptr;
  });
}

// Float classification: x -> bool.
struct IsNanOp { template <typename T> static bool f(T v) { return std::isnan(v); } };
struct IsInfOp { template <typename T> static bool f(T v) { return std::isinf(v); } };
struct IsFiniteOp { template <typename T> static bool f(T v) { return std::isfinite(v); } };

template <typename Op>
loom_status* Classify(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, x.shape(), &y));
  return Dispatch(FloatTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* in = x.as<const T>();
    bool* out = y.as<bool>();
    k.parallel_for(x.size, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = Op::f(in[i]);
    });
    return nullptr;
  });
}

loom_status* LogicalNotImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  const bool* in = x.as<const bool>();
  bool* out = y.as<bool>();
  k.parallel_for(x.size, 1, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) out[i] = !in[i];
  });
  return nullptr;
}

using BoolTypes = TypeList<bool>;
using IntegerTypes = TypeList<int32_t, int64_t>;

}  // namespace

#define LOOM_DEFINE(NAME, EXPR) \
  LOOM_CPU_KERNEL(NAME) { return EXPR(ctx); }

LOOM_DEFINE(NegKernel, (Unary<NegOp, SignedTypes>))
LOOM_DEFINE(AbsKernel, (Unary<AbsOp, SignedTypes>))
LOOM_DEFINE(SquareKernel, (Unary<SquareOp, SignedTypes>))
LOOM_DEFINE(SignKernel, (Unary<SignOp, SignedTypes>))
LOOM_DEFINE(ReluKernel, (Unary<ReluOp, NumericTypes>))
LOOM_DEFINE(ExpKernel, (Unary<ExpOp, FloatTypes>))
LOOM_DEFINE(LogKernel, (Unary<LogOp, FloatTypes>))
LOOM_DEFINE(Log1pKernel, (Unary<Log1pOp, FloatTypes>))
LOOM_DEFINE(SqrtKernel, (Unary<SqrtOp, FloatTypes>))
LOOM_DEFINE(RsqrtKernel, (Unary<RsqrtOp, FloatTypes>))
LOOM_DEFINE(SigmoidKernel, (Unary<SigmoidOp, FloatTypes>))
LOOM_DEFINE(TanhKernel, (Unary<TanhOp, FloatTypes>))
LOOM_DEFINE(ReciprocalKernel, (Unary<ReciprocalOp, FloatTypes>))
LOOM_DEFINE(FloorKernel, (Unary<FloorOp, FloatTypes>))
LOOM_DEFINE(CeilKernel, (Unary<CeilOp, FloatTypes>))
LOOM_DEFINE(RoundKernel, (Unary<RoundOp, NumericTypes>))
LOOM_DEFINE(SoftplusKernel, (Unary<SoftplusOp, FloatTypes>))
LOOM_DEFINE(SinKernel, (Unary<SinOp, FloatTypes>))
LOOM_DEFINE(CosKernel, (Unary<CosOp, FloatTypes>))
LOOM_DEFINE(ErfKernel, (Unary<ErfOp, FloatTypes>))
LOOM_DEFINE(Expm1Kernel, (Unary<Expm1Op, FloatTypes>))
LOOM_DEFINE(TanKernel, (Unary<TanOp, FloatTypes>))
LOOM_DEFINE(AsinKernel, (Unary<AsinOp, FloatTypes>))
LOOM_DEFINE(AcosKernel, (Unary<AcosOp, FloatTypes>))
LOOM_DEFINE(AtanKernel, (Unary<AtanOp, FloatTypes>))
LOOM_DEFINE(SinhKernel, (Unary<SinhOp, FloatTypes>))
LOOM_DEFINE(CoshKernel, (Unary<CoshOp, FloatTypes>))
LOOM_DEFINE(Relu6Kernel, (Unary<Relu6Op, FloatTypes>))
LOOM_DEFINE(EluKernel, (Unary<EluOp, FloatTypes>))
LOOM_DEFINE(SeluKernel, (Unary<SeluOp, FloatTypes>))
LOOM_DEFINE(SoftsignKernel, (Unary<SoftsignOp, FloatTypes>))
LOOM_DEFINE(LeakyReluKernel, (Unary<LeakyReluOp, FloatTypes>))
LOOM_DEFINE(LogicalNotKernel, LogicalNotImpl)
LOOM_DEFINE(IsNanKernel, Classify<IsNanOp>)
LOOM_DEFINE(IsInfKernel, Classify<IsInfOp>)
LOOM_DEFINE(IsFiniteKernel, Classify<IsFiniteOp>)

LOOM_DEFINE(AddKernel, (Binary<AddOp, NumericTypes>))
LOOM_DEFINE(SubKernel, (Binary<SubOp, NumericTypes>))
LOOM_DEFINE(MulKernel, (Binary<MulOp, NumericTypes>))
LOOM_DEFINE(DivKernel, (Binary<DivOp, NumericTypes>))
LOOM_DEFINE(RealDivKernel, (Binary<DivOp, FloatTypes>))
LOOM_DEFINE(MaximumKernel, (Binary<MaximumOp, NumericTypes>))
LOOM_DEFINE(MinimumKernel, (Binary<MinimumOp, NumericTypes>))
LOOM_DEFINE(PowKernel, (Binary<PowOp, NumericTypes>))
LOOM_DEFINE(Atan2Kernel, (Binary<Atan2Op, FloatTypes>))
LOOM_DEFINE(FloorDivKernel, (Binary<FloorDivOp, NumericTypes>))
LOOM_DEFINE(FloorModKernel, (Binary<FloorModOp, NumericTypes>))
LOOM_DEFINE(SquaredDifferenceKernel, (Binary<SquaredDifferenceOp, NumericTypes>))
LOOM_DEFINE(EqualKernel, (Binary<EqualOp, EqualityTypes, true>))
LOOM_DEFINE(NotEqualKernel, (Binary<NotEqualOp, EqualityTypes, true>))
LOOM_DEFINE(LessKernel, (Binary<LessOp, ComparableTypes, true>))
LOOM_DEFINE(LessEqualKernel, (Binary<LessEqualOp, ComparableTypes, true>))
LOOM_DEFINE(GreaterKernel, (Binary<GreaterOp, ComparableTypes, true>))
LOOM_DEFINE(GreaterEqualKernel, (Binary<GreaterEqualOp, ComparableTypes, true>))
LOOM_DEFINE(LogicalAndKernel, (Binary<LogicalAndOp, BoolTypes, true>))
LOOM_DEFINE(LogicalOrKernel, (Binary<LogicalOrOp, BoolTypes, true>))

LOOM_DEFINE(ReluGradKernel, (SameShapeBinary<ReluGradOp, NumericTypes>))
LOOM_DEFINE(SigmoidGradKernel, (SameShapeBinary<SigmoidGradOp, FloatTypes>))
LOOM_DEFINE(TanhGradKernel, (SameShapeBinary<TanhGradOp, FloatTypes>))
LOOM_DEFINE(SqrtGradKernel, (SameShapeBinary<SqrtGradOp, FloatTypes>))
LOOM_DEFINE(RsqrtGradKernel, (SameShapeBinary<RsqrtGradOp, FloatTypes>))
LOOM_DEFINE(ReciprocalGradKernel, (SameShapeBinary<ReciprocalGradOp, FloatTypes>))
LOOM_DEFINE(SoftplusGradKernel, (SameShapeBinary<SoftplusGradOp, FloatTypes>))
LOOM_DEFINE(Relu6GradKernel, (SameShapeBinary<Relu6GradOp, FloatTypes>))
LOOM_DEFINE(EluGradKernel, (SameShapeBinary<EluGradOp, FloatTypes>))
LOOM_DEFINE(SeluGradKernel, (SameShapeBinary<SeluGradOp, FloatTypes>))
LOOM_DEFINE(SoftsignGradKernel, (SameShapeBinary<SoftsignGradOp, FloatTypes>))
LOOM_DEFINE(LeakyReluGradKernel, (SameShapeBinary<LeakyReluGradOp, FloatTypes>))

LOOM_DEFINE(SelectKernel, SelectImpl)
LOOM_DEFINE(SelectV2Kernel, SelectV2Impl)
LOOM_DEFINE(CastKernel, CastImpl)
LOOM_DEFINE(AddNKernel, AddNImpl)
LOOM_DEFINE(BiasAddKernel, BiasAddImpl)
LOOM_DEFINE(ZerosLikeKernel, FillLike<0>)
LOOM_DEFINE(OnesLikeKernel, FillLike<1>)
#undef LOOM_DEFINE

}  // namespace loom_cpu
