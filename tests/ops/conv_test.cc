// Convolution, pooling and batch-normalisation kernels on the CPU device,
// against direct (naive-loop) references evaluated in double: Conv2D and both
// backprops across SAME/VALID/EXPLICIT padding, strides, dilations, odd sizes
// and the 1x1 fast path; MaxPool/AvgPool and their gradients; FusedBatchNorm
// in training and inference and its gradient. The im2col + GEMM kernels sum
// in float in a different order than the reference, so float results are
// compared with atol 1e-4 + rtol 1e-4 (a sum of <= 800 products of values in
// [-1, 1] has a float rounding error around 1e-5).
#include <cmath>
#include <string>

#include "op_test_util.h"

namespace loomtest {
namespace {

// Deterministic values in [-1, 1).
std::vector<float> Values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>(static_cast<double>(s >> 11) / 4503599627370496.0 - 1.0);
  }
  return v;
}

int64_t Prod(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}

struct ConvCase {
  ConvCase(std::string l, std::vector<int64_t> i, std::vector<int64_t> f, int64_t sh_ = 1,
           int64_t sw_ = 1, int64_t dh_ = 1, int64_t dw_ = 1, std::string p = "SAME")
      : label(std::move(l)), in(std::move(i)), filter(std::move(f)), sh(sh_), sw(sw_), dh(dh_),
        dw(dw_), padding(std::move(p)) {}
  std::string label;
  std::vector<int64_t> in, filter;  // NHWC, HWIO
  int64_t sh, sw, dh, dw;
  std::string padding;
  std::vector<int64_t> explicit_pads;  // 8 values for EXPLICIT
};

// Output size and top/left padding of one dim, as TensorFlow computes them.
void Geometry(int64_t in, int64_t k, int64_t s, int64_t d, const std::string& padding,
              int64_t pb, int64_t pa, int64_t* out, int64_t* pad) {
  const int64_t eff = (k - 1) * d + 1;
  if (padding == "VALID") {
    *out = (in - eff + s) / s;
    *pad = 0;
  } else if (padding == "SAME") {
    *out = (in + s - 1) / s;
    *pad = std::max<int64_t>(0, (*out - 1) * s + eff - in) / 2;
  } else {
    *out = (in + pb + pa - eff) / s + 1;
    *pad = pb;
  }
}

struct ConvRef {
  int64_t n, h, w, c, kh, kw, oc, oh, ow, pt, pl;
  ConvCase cc;
  explicit ConvRef(const ConvCase& k) : cc(k) {
    n = k.in[0], h = k.in[1], w = k.in[2], c = k.in[3];
    kh = k.filter[0], kw = k.filter[1], oc = k.filter[3];
    int64_t e[8] = {0};
    for (size_t i = 0; i < k.explicit_pads.size(); ++i) e[i] = k.explicit_pads[i];
    Geometry(h, kh, k.sh, k.dh, k.padding, e[2], e[3], &oh, &pt);
    Geometry(w, kw, k.sw, k.dw, k.padding, e[4], e[5], &ow, &pl);
  }
  std::vector<int64_t> out_shape() const { return {n, oh, ow, oc}; }
  // Calls f(x_index, w_index, y_index) for every product term of the convolution.
  template <typename F>
  void ForEachTerm(F&& f) const {
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * cc.sh - pt + ky * cc.dh, ix = ox * cc.sw - pl + kx * cc.dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (int64_t ci = 0; ci < c; ++ci)
                for (int64_t co = 0; co < oc; ++co)
                  f(((b * h + iy) * w + ix) * c + ci, ((ky * kw + kx) * c + ci) * oc + co,
                    ((b * oh + oy) * ow + ox) * oc + co);
            }
  }
};

std::vector<float> ToFloat(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

class Conv : public OpTest {
 protected:
  void CheckDepthwise(const ConvCase& k);
  AttrFn ConvAttrs(const ConvCase& k) {
    std::vector<AttrFn> a = {IntList("strides", {1, k.sh, k.sw, 1}), Str("padding", k.padding),
                             IntList("dilations", {1, k.dh, k.dw, 1})};
    if (!k.explicit_pads.empty()) a.push_back(IntList("explicit_paddings", k.explicit_pads));
    return Attrs(a);
  }

  // Checks Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter for one case.
  void CheckAllThree(const ConvCase& k) {
    SCOPED_TRACE(k.label);
    ConvRef r(k);
    std::vector<float> x = Values(Prod(k.in), 1), w = Values(Prod(k.filter), 2);
    std::vector<float> dy = Values(Prod(r.out_shape()), 3);
    std::vector<double> y(static_cast<size_t>(Prod(r.out_shape()))), dx(x.size()), dw(w.size());
    r.ForEachTerm([&](int64_t xi, int64_t wi, int64_t yi) {
      y[yi] += static_cast<double>(x[xi]) * w[wi];
      dx[xi] += static_cast<double>(dy[yi]) * w[wi];
      dw[wi] += static_cast<double>(dy[yi]) * x[xi];
    });
    loom_output xc = Const<float>(k.in, x), wc = Const<float>(k.filter, w);
    loom_output dyc = Const<float>(r.out_shape(), dy);
    std::vector<int32_t> in_sizes(k.in.begin(), k.in.end());
    std::vector<int32_t> f_sizes(k.filter.begin(), k.filter.end());
    loom_output fwd = B("Conv2D", {xc, wc}, ConvAttrs(k));
    loom_output bi = B("Conv2DBackpropInput", {Const<int32_t>({4}, in_sizes), wc, dyc}, ConvAttrs(k));
    loom_output bf = B("Conv2DBackpropFilter", {xc, Const<int32_t>({4}, f_sizes), dyc}, ConvAttrs(k));
    auto out = RunOk({fwd, bi, bf});
    ASSERT_EQ(out.size(), 3u);
    ExpectNear<float>(out[0], r.out_shape(), ToFloat(y), 1e-4, 1e-4);
    ExpectNear<float>(out[1], k.in, ToFloat(dx), 1e-4, 1e-4);
    ExpectNear<float>(out[2], k.filter, ToFloat(dw), 1e-4, 1e-4);
  }
};

TEST_F(Conv, SameAndValidPaddingMatchNaiveReference) {
  CheckAllThree({"SAME 3x3", {2, 5, 5, 3}, {3, 3, 3, 4}});
  CheckAllThree({"VALID 3x3", {2, 5, 5, 3}, {3, 3, 3, 4}, 1, 1, 1, 1, "VALID"});
  CheckAllThree({"SAME even filter 4x2", {1, 6, 7, 2}, {4, 2, 2, 3}});
  CheckAllThree({"VALID filter as large as the input", {2, 4, 3, 2}, {4, 3, 2, 5}, 1, 1, 1, 1,
                 "VALID"});
}

TEST_F(Conv, StridesIncludingAsymmetricMatchNaiveReference) {
  CheckAllThree({"SAME stride 2", {2, 7, 7, 2}, {3, 3, 2, 3}, 2, 2});
  CheckAllThree({"VALID stride 2x3", {1, 9, 8, 3}, {3, 2, 3, 2}, 2, 3, 1, 1, "VALID"});
  CheckAllThree({"SAME stride larger than the filter", {2, 8, 9, 1}, {2, 2, 1, 2}, 3, 3});
}

TEST_F(Conv, DilationsMatchNaiveReference) {
  CheckAllThree({"SAME dilation 2", {1, 7, 7, 2}, {3, 3, 2, 2}, 1, 1, 2, 2});
  CheckAllThree({"VALID dilation 2x3", {2, 9, 10, 1}, {2, 3, 1, 3}, 1, 1, 2, 3, "VALID"});
  CheckAllThree({"dilation with stride", {1, 11, 11, 2}, {3, 3, 2, 2}, 2, 2, 2, 2});
}

TEST_F(Conv, ExplicitPaddingMatchesNaiveReference) {
  ConvCase k{"EXPLICIT 1,2 / 0,3", {2, 5, 6, 2}, {3, 3, 2, 3}};
  k.padding = "EXPLICIT";
  k.explicit_pads = {0, 0, 1, 2, 0, 3, 0, 0};
  CheckAllThree(k);
}

TEST_F(Conv, OddSizesAndOneChannel) {
  CheckAllThree({"1 channel 5x5 like the CNN's first layer", {3, 11, 13, 1}, {5, 5, 1, 4}});
  CheckAllThree({"1x1 image", {2, 1, 1, 3}, {3, 3, 3, 2}});
  CheckAllThree({"7x1 filter", {1, 9, 4, 2}, {7, 1, 2, 2}});
}

TEST_F(Conv, SmallPatchDirectPathMatchesNaiveReference) {
  // K = kh*kw*c <= 32 and a multiple of 8 output channels: the direct
  // (register-accumulator) forward kernel, with 8, 16 and 32-channel blocks.
  CheckAllThree({"5x5x1x32 SAME", {2, 9, 8, 1}, {5, 5, 1, 32}});
  CheckAllThree({"3x3x3x8 stride 2", {2, 7, 6, 3}, {3, 3, 3, 8}, 2, 2});
  CheckAllThree({"3x3x2x16 VALID dilation 2", {1, 9, 9, 2}, {3, 3, 2, 16}, 1, 1, 2, 2, "VALID"});
  CheckAllThree({"2x2x1x24 (3 blocks of 8)", {1, 5, 4, 1}, {2, 2, 1, 24}});
}

TEST_F(Conv, PointwiseFastPathMatchesNaiveReference) {
  CheckAllThree({"1x1 stride 1", {2, 5, 7, 6}, {1, 1, 6, 4}, 1, 1, 1, 1, "VALID"});
  CheckAllThree({"1x1 stride 2 (not the fast path)", {2, 5, 7, 6}, {1, 1, 6, 4}, 2, 2});
}

TEST_F(Conv, ManyTilesAndThreadsMatchNaiveReference) {
  // The CNN's second layer at batch 3: K = 800, several tiles per image, so
  // the tiling, the per-thread scratch and the partial sums are exercised.
  CheckAllThree({"5x5x32x64 on 14x14", {3, 14, 14, 32}, {5, 5, 32, 64}});
}

TEST_F(Conv, FloatPanelGemmPathMatchesNaiveReference) {
  // Float convolutions whose GEMM has a multiple of 16 columns (forward: oc;
  // backprop input: kh*kw*c) run on the packed-panel kernel: row counts that
  // leave 1-5 rows after the 6-row blocks, more than 256 products per output
  // (the k slices), and shapes where only one of the two passes qualifies.
  CheckAllThree({"3x3x16x16 on 7x5 (35 rows per image)", {2, 7, 5, 16}, {3, 3, 16, 16}});
  CheckAllThree({"5x5x32x48 (K = 800: four k slices)", {1, 6, 5, 32}, {5, 5, 32, 48}});
  CheckAllThree({"1x1 16 -> 272 channels (pointwise, 17 panels)", {1, 5, 3, 16},
                 {1, 1, 16, 272}, 1, 1, 1, 1, "VALID"});
  CheckAllThree({"3x3x5x16 (forward only: K = 45)", {2, 5, 6, 5}, {3, 3, 5, 16}, 2, 1});
  CheckAllThree({"2x2x8x12 (backprop input only: K = 32)", {3, 9, 7, 8}, {2, 2, 8, 12}, 2, 2,
                 1, 1, "VALID"});
  // Backprop filter gathers 16-channel panels straight from x (c % 16 == 0):
  // strides, dilations, padding, and 7 output channels (a partial 6-row block).
  CheckAllThree({"3x3x16x7 stride 2 dilation 2", {2, 11, 9, 16}, {3, 3, 16, 7}, 2, 2, 2, 2});
  CheckAllThree({"2x3x48x5 VALID stride 1x2", {3, 6, 7, 48}, {2, 3, 48, 5}, 1, 2, 1, 1,
                 "VALID"});
}

TEST_F(Conv, DoubleMatchesNaiveReference) {
  ConvCase k{"double", {1, 5, 4, 2}, {3, 2, 2, 3}, 2, 1};
  ConvRef r(k);
  std::vector<float> xf = Values(Prod(k.in), 4), wf = Values(Prod(k.filter), 5);
  std::vector<double> x(xf.begin(), xf.end()), w(wf.begin(), wf.end());
  std::vector<double> y(static_cast<size_t>(Prod(r.out_shape())));
  r.ForEachTerm([&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
  auto out = RunOk({B("Conv2D", {Const<double>(k.in, x), Const<double>(k.filter, w)},
                      ConvAttrs(k))});
  ExpectNear<double>(out[0], r.out_shape(), y, 1e-12, 1e-12);
}

TEST_F(Conv, ShapeInferenceGivesOutputShape) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 28, 28, 1});
  loom_output w = Const<float>({5, 5, 1, 32}, Values(800, 6));
  loom_op* op = Build("Conv2D", {x, w}, Attrs({IntList("strides", {1, 2, 2, 1}), Str("padding", "SAME")}));
  int64_t dims[4];
  int rank = -1;
  ASSERT_EQ(Take(loom_graph_output_shape(g_, loom_output{op, 0}, dims, 4, &rank)), "");
  ASSERT_EQ(rank, 4);
  EXPECT_EQ(std::vector<int64_t>(dims, dims + 4), (std::vector<int64_t>{-1, 14, 14, 32}));
}

TEST_F(Conv, NchwIsRefusedByNameAndDepthMismatchIsAnError) {
  loom_output x = Unknown(LOOM_DTYPE_FLOAT, "x");
  loom_output w = Unknown(LOOM_DTYPE_FLOAT, "w");
  loom_output nchw = B("Conv2D", {x, w}, Attrs({IntList("strides", {1, 1, 1, 1}), Str("padding", "SAME"),
                                                Str("data_format", "NCHW")}));
  TensorPtr xv = MakeTensor<float>({1, 2, 4, 4}, Values(32, 7));
  TensorPtr wv = MakeTensor<float>({3, 3, 2, 2}, Values(36, 8));
  ExpectError(RunErr({nchw}, {x, w}, {xv.get(), wv.get()}), "UNIMPLEMENTED", {"Conv2D", "NHWC", "NCHW"});
  loom_output bad = B("Conv2D", {x, w}, Attrs({IntList("strides", {1, 1, 1, 1}), Str("padding", "SAME")}));
  TensorPtr wbad = MakeTensor<float>({3, 3, 3, 2}, Values(54, 9));
  TensorPtr xin = MakeTensor<float>({1, 4, 4, 2}, Values(32, 7));
  ExpectError(RunErr({bad}, {x, w}, {xin.get(), wbad.get()}), "INVALID_ARGUMENT",
              {"Conv2D", "input depth 2", "filter"});
  // Graph-time: a 3-D input is refused when the op is added.
  loom_op* op = nullptr;
  std::string err = TryBuild("Conv2D", {Const<float>({4, 4, 2}, Values(32, 1)), Const<float>({3, 3, 2, 2}, Values(36, 1))},
                             Attrs({IntList("strides", {1, 1, 1, 1}), Str("padding", "SAME")}), &op);
  ExpectError(err, "INVALID_ARGUMENT", {"Conv2D", "rank"});
}

// ---------------------------------------------------------------- depthwise

// DepthwiseConv2dNative and both backprops against the naive loop:
// y[n, oy, ox, c * M + m] = sum x[n, iy, ix, c] * w[ky, kx, c, m].
void Conv::CheckDepthwise(const ConvCase& k) {
  SCOPED_TRACE(k.label);
  ConvRef r(k);  // geometry only; oc below is c * multiplier
  const int64_t C = k.in[3], M = k.filter[3], OC = C * M;
  const std::vector<int64_t> os = {r.n, r.oh, r.ow, OC};
  std::vector<float> x = Values(Prod(k.in), 41), w = Values(Prod(k.filter), 42), dy = Values(Prod(os), 43);
  std::vector<double> y(static_cast<size_t>(Prod(os))), dx(x.size()), dw(w.size());
  for (int64_t b = 0; b < r.n; ++b)
    for (int64_t oy = 0; oy < r.oh; ++oy)
      for (int64_t ox = 0; ox < r.ow; ++ox)
        for (int64_t ky = 0; ky < r.kh; ++ky)
          for (int64_t kx = 0; kx < r.kw; ++kx) {
            const int64_t iy = oy * k.sh - r.pt + ky * k.dh, ix = ox * k.sw - r.pl + kx * k.dw;
            if (iy < 0 || iy >= r.h || ix < 0 || ix >= r.w) continue;
            for (int64_t c = 0; c < C; ++c)
              for (int64_t m = 0; m < M; ++m) {
                const int64_t xi = ((b * r.h + iy) * r.w + ix) * C + c;
                const int64_t wi = ((ky * r.kw + kx) * C + c) * M + m;
                const int64_t yi = ((b * r.oh + oy) * r.ow + ox) * OC + c * M + m;
                y[yi] += static_cast<double>(x[xi]) * w[wi];
                dx[xi] += static_cast<double>(dy[yi]) * w[wi];
                dw[wi] += static_cast<double>(dy[yi]) * x[xi];
              }
          }
  AttrFn a = Attrs({IntList("strides", {1, k.sh, k.sw, 1}), Str("padding", k.padding),
                    IntList("dilations", {1, k.dh, k.dw, 1})});
  loom_output xc = Const<float>(k.in, x), wc = Const<float>(k.filter, w), dyc = Const<float>(os, dy);
  std::vector<int32_t> in_sizes(k.in.begin(), k.in.end()), f_sizes(k.filter.begin(), k.filter.end());
  auto out = RunOk({B("DepthwiseConv2dNative", {xc, wc}, a),
                       B("DepthwiseConv2dNativeBackpropInput", {Const<int32_t>({4}, in_sizes), wc, dyc}, a),
                       B("DepthwiseConv2dNativeBackpropFilter", {xc, Const<int32_t>({4}, f_sizes), dyc}, a)});
  ASSERT_EQ(out.size(), 3u);
  ExpectNear<float>(out[0], os, ToFloat(y), 1e-4, 1e-4);
  ExpectNear<float>(out[1], k.in, ToFloat(dx), 1e-4, 1e-4);
  ExpectNear<float>(out[2], k.filter, ToFloat(dw), 1e-4, 1e-4);
}

TEST_F(Conv, DepthwiseMatchesNaiveReference) {
  CheckDepthwise({"multiplier 1 SAME", {2, 6, 5, 3}, {3, 3, 3, 1}});
  CheckDepthwise({"multiplier 2 VALID stride 2", {1, 7, 8, 2}, {3, 2, 2, 2}, 2, 2, 1, 1, "VALID"});
  CheckDepthwise({"multiplier 3 dilation 2", {2, 7, 7, 4}, {3, 3, 4, 3}, 1, 1, 2, 2});
  CheckDepthwise({"5x5 on 1x1 image", {3, 1, 1, 2}, {5, 5, 2, 1}});
}

// ---------------------------------------------------------------- pooling

struct PoolCase {
  std::string label;
  std::vector<int64_t> in;
  int64_t kh, kw, sh, sw;
  std::string padding;
};

class Pool : public OpTest {
 protected:
  AttrFn PoolAttrs(const PoolCase& p) {
    return Attrs({IntList("ksize", {1, p.kh, p.kw, 1}), IntList("strides", {1, p.sh, p.sw, 1}),
                  Str("padding", p.padding)});
  }
  void Check(const PoolCase& p) {
    SCOPED_TRACE(p.label);
    const int64_t n = p.in[0], h = p.in[1], w = p.in[2], c = p.in[3];
    int64_t oh, ow, pt, pl;
    Geometry(h, p.kh, p.sh, 1, p.padding, 0, 0, &oh, &pt);
    Geometry(w, p.kw, p.sw, 1, p.padding, 0, 0, &ow, &pl);
    std::vector<int64_t> os = {n, oh, ow, c};
    std::vector<float> x = Values(Prod(p.in), 11), g = Values(Prod(os), 12);
    std::vector<double> mx(static_cast<size_t>(Prod(os))), av(mx.size()), dmax(x.size()),
        davg(x.size());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t ch = 0; ch < c; ++ch) {
            const int64_t o = ((b * oh + oy) * ow + ox) * c + ch;
            double best = -INFINITY, sum = 0;
            int64_t arg = -1, count = 0;
            std::vector<int64_t> window;
            for (int64_t ky = 0; ky < p.kh; ++ky)
              for (int64_t kx = 0; kx < p.kw; ++kx) {
                const int64_t iy = oy * p.sh - pt + ky, ix = ox * p.sw - pl + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const int64_t i = ((b * h + iy) * w + ix) * c + ch;
                window.push_back(i);
                if (x[i] > best) best = x[i], arg = i;
                sum += x[i];
                ++count;
              }
            mx[o] = best;
            av[o] = sum / count;
            dmax[arg] += g[o];
            for (int64_t i : window) davg[i] += g[o] / count;
          }
    loom_output xc = Const<float>(p.in, x), gc = Const<float>(os, g);
    std::vector<int32_t> sizes(p.in.begin(), p.in.end());
    loom_output maxp = B("MaxPool", {xc}, PoolAttrs(p));
    loom_output avgp = B("AvgPool", {xc}, PoolAttrs(p));
    loom_output maxg = B("MaxPoolGrad", {xc, maxp, gc}, PoolAttrs(p));
    loom_output avgg = B("AvgPoolGrad", {Const<int32_t>({4}, sizes), gc}, PoolAttrs(p));
    auto out = RunOk({maxp, avgp, maxg, avgg});
    ExpectNear<float>(out[0], os, ToFloat(mx), 0, 0);
    ExpectNear<float>(out[1], os, ToFloat(av), 1e-6, 1e-6);
    ExpectNear<float>(out[2], p.in, ToFloat(dmax), 1e-6, 1e-6);
    ExpectNear<float>(out[3], p.in, ToFloat(davg), 1e-6, 1e-6);
  }
};

TEST_F(Pool, MaxAndAvgPoolAndGradientsMatchNaiveReference) {
  Check({"2x2 stride 2 VALID (the CNN's)", {2, 6, 6, 3}, 2, 2, 2, 2, "VALID"});
  Check({"2x2 stride 2 SAME on odd sizes", {2, 7, 5, 2}, 2, 2, 2, 2, "SAME"});
  Check({"3x3 stride 1 SAME (overlapping windows)", {1, 5, 6, 4}, 3, 3, 1, 1, "SAME"});
  Check({"3x2 stride 2x1 VALID", {2, 7, 6, 1}, 3, 2, 2, 1, "VALID"});
  Check({"3x3 stride 2 SAME", {1, 9, 9, 5}, 3, 3, 2, 2, "SAME"});
}

TEST_F(Pool, DisjointWindowsMatchNaiveReference) {
  // Stride >= window: MaxPoolGrad writes each window's block of dx directly.
  // Odd sizes leave rows/columns outside every window (VALID) or clip the
  // last windows (SAME); strides above the window leave gaps.
  Check({"2x2 stride 2 VALID on odd sizes, 32 channels", {2, 7, 9, 32}, 2, 2, 2, 2, "VALID"});
  Check({"2x2 stride 2 SAME on odd sizes, 32 channels", {1, 9, 7, 32}, 2, 2, 2, 2, "SAME"});
  Check({"2x2 stride 3 (gaps between windows)", {2, 8, 7, 3}, 2, 2, 3, 3, "VALID"});
  Check({"3x2 stride 3x2 SAME", {1, 8, 7, 4}, 3, 2, 3, 2, "SAME"});
  Check({"1x1 stride 2", {1, 5, 5, 2}, 1, 1, 2, 2, "VALID"});
}

TEST_F(Pool, MaxPoolGradGoesToTheFirstMaximumOnTies) {
  // One 2x2 window of equal values: TensorFlow's CPU kernel routes the whole
  // gradient to the first element in scan order.
  loom_output x = Const<float>({1, 2, 2, 1}, {1, 1, 1, 1});
  AttrFn a = Attrs({IntList("ksize", {1, 2, 2, 1}), IntList("strides", {1, 2, 2, 1}), Str("padding", "VALID")});
  loom_output y = B("MaxPool", {x}, a);
  auto out = RunOk({B("MaxPoolGrad", {x, y, Const<float>({1, 1, 1, 1}, {5})}, a),
                    B("MaxPoolGradGrad", {x, y, Const<float>({1, 2, 2, 1}, {7, 8, 9, 10})}, a)});
  ExpectValues<float>(out[0], {1, 2, 2, 1}, {5, 0, 0, 0});
  ExpectValues<float>(out[1], {1, 1, 1, 1}, {7});
}

TEST_F(Pool, MaxPoolGradGoesToTheFirstMaximumOnTiesEightChannelsAtATime) {
  // 8 channels (the vectorised path for disjoint windows): channel c holds
  // the value c at window positions >= c % 4 and 0 before them, so the
  // first maximum is at position c % 4 (channel 0: all equal, position 0).
  std::vector<float> x(4 * 8);
  for (int p = 0; p < 4; ++p)
    for (int c = 0; c < 8; ++c) x[p * 8 + c] = p >= c % 4 ? static_cast<float>(c) : 0.0f;
  std::vector<float> g(8), want(4 * 8, 0.0f);
  for (int c = 0; c < 8; ++c) {
    g[c] = static_cast<float>(10 + c);
    want[(c % 4) * 8 + c] = g[c];
  }
  AttrFn a = Attrs({IntList("ksize", {1, 2, 2, 1}), IntList("strides", {1, 2, 2, 1}), Str("padding", "VALID")});
  loom_output xc = Const<float>({1, 2, 2, 8}, x);
  loom_output y = B("MaxPool", {xc}, a);
  auto out = RunOk({B("MaxPoolGrad", {xc, y, Const<float>({1, 1, 1, 8}, g)}, a)});
  ExpectValues<float>(out[0], {1, 2, 2, 8}, want);
}

TEST_F(Pool, ShapeInferenceAndBadKsize) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 28, 28, 32});
  loom_op* op = Build("MaxPool", {x}, Attrs({IntList("ksize", {1, 2, 2, 1}), IntList("strides", {1, 2, 2, 1}),
                                             Str("padding", "SAME")}));
  int64_t dims[4];
  int rank = -1;
  ASSERT_EQ(Take(loom_graph_output_shape(g_, loom_output{op, 0}, dims, 4, &rank)), "");
  EXPECT_EQ(std::vector<int64_t>(dims, dims + 4), (std::vector<int64_t>{-1, 14, 14, 32}));
  loom_op* bad = nullptr;
  ExpectError(TryBuild("MaxPool", {x}, Attrs({IntList("ksize", {2, 2, 2, 1}), IntList("strides", {1, 2, 2, 1}),
                                              Str("padding", "SAME")}), &bad),
              "INVALID_ARGUMENT", {"MaxPool", "batch"});
}

// ---------------------------------------------------------------- batch norm

class BatchNorm : public OpTest {};

TEST_F(BatchNorm, TrainingNormalisesWithBatchStatistics) {
  const std::vector<int64_t> s = {2, 3, 2, 3};
  const int64_t C = 3, R = 12;
  std::vector<float> x = Values(Prod(s), 21), scale = {0.5f, 1.0f, 2.0f}, offset = {0.1f, -0.2f, 0.3f};
  for (size_t i = 0; i < x.size(); ++i) x[i] = x[i] * 3 + static_cast<float>(i % C);  // channel means differ
  std::vector<double> mean(C), var(C), y(x.size());
  for (int64_t r = 0; r < R; ++r)
    for (int64_t ch = 0; ch < C; ++ch) mean[ch] += x[r * C + ch] / double(R);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t ch = 0; ch < C; ++ch) var[ch] += std::pow(x[r * C + ch] - mean[ch], 2) / R;
  const double eps = 0.001;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t ch = 0; ch < C; ++ch)
      y[r * C + ch] = (x[r * C + ch] - mean[ch]) / std::sqrt(var[ch] + eps) * scale[ch] + offset[ch];
  std::vector<double> unbiased(C);
  for (int64_t ch = 0; ch < C; ++ch) unbiased[ch] = var[ch] * R / (R - 1);
  for (const char* op : {"FusedBatchNorm", "FusedBatchNormV3"}) {
    SCOPED_TRACE(op);
    loom_op* bn = Build(op, {Const<float>(s, x), Const<float>({C}, scale), Const<float>({C}, offset),
                             Const<float>({0}, {}), Const<float>({0}, {})},
                        Attrs({Float("epsilon", 0.001f)}));
    auto out = RunOk({{bn, 0}, {bn, 1}, {bn, 2}, {bn, 3}, {bn, 4}});
    ExpectNear<float>(out[0], s, ToFloat(y), 1e-5, 1e-5);
    ExpectNear<float>(out[1], {C}, ToFloat(mean), 1e-5, 1e-6);
    ExpectNear<float>(out[2], {C}, ToFloat(unbiased), 1e-5, 1e-6);
    ExpectNear<float>(out[3], {C}, ToFloat(mean), 1e-5, 1e-6);
    ExpectNear<float>(out[4], {C}, ToFloat(var), 1e-5, 1e-6);
  }
  // exponential_avg_factor mixes the running statistics.
  loom_op* ema = Build("FusedBatchNormV3", {Const<float>(s, x), Const<float>({C}, scale), Const<float>({C}, offset),
                                            Const<float>({C}, {1, 2, 3}), Const<float>({C}, {4, 5, 6})},
                       Attrs({Float("epsilon", 0.001f), Float("exponential_avg_factor", 0.25f)}));
  auto out = RunOk({{ema, 1}, {ema, 2}});
  std::vector<double> m2(C), v2(C);
  for (int64_t ch = 0; ch < C; ++ch) {
    m2[ch] = 0.75 * (ch + 1) + 0.25 * mean[ch];
    v2[ch] = 0.75 * (ch + 4) + 0.25 * unbiased[ch];
  }
  ExpectNear<float>(out[0], {C}, ToFloat(m2), 1e-5, 1e-6);
  ExpectNear<float>(out[1], {C}, ToFloat(v2), 1e-5, 1e-6);
}

TEST_F(BatchNorm, InferenceUsesTheGivenStatistics) {
  const std::vector<int64_t> s = {1, 2, 2, 2};
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  loom_op* bn = Build("FusedBatchNorm", {Const<float>(s, x), Const<float>({2}, {2, 3}), Const<float>({2}, {1, -1}),
                                         Const<float>({2}, {4, 5}), Const<float>({2}, {3, 8})},
                      Attrs({Float("epsilon", 1.0f), Bool("is_training", false)}));
  auto out = RunOk({{bn, 0}});
  std::vector<double> y;
  for (size_t i = 0; i < x.size(); ++i) {
    const int ch = i % 2;
    const double m = ch ? 5 : 4, v = ch ? 8 : 3, sc = ch ? 3 : 2, of = ch ? -1 : 1;
    y.push_back((x[i] - m) / std::sqrt(v + 1) * sc + of);
  }
  ExpectNear<float>(out[0], s, ToFloat(y), 1e-6, 1e-6);
}

TEST_F(BatchNorm, GradMatchesTheClosedForm) {
  const std::vector<int64_t> s = {2, 2, 3, 2};
  const int64_t C = 2, R = 12;
  std::vector<float> x = Values(Prod(s), 31), dy = Values(Prod(s), 32), scale = {0.7f, 1.3f};
  std::vector<float> mean = {0.1f, -0.2f}, var = {0.5f, 0.9f};
  const double eps = 0.01;
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "inference");
    std::vector<double> dx(x.size()), ds(C), db(C), sdy(C), sdyx(C);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t ch = 0; ch < C; ++ch) {
        sdy[ch] += dy[r * C + ch];
        sdyx[ch] += dy[r * C + ch] * (x[r * C + ch] - mean[ch]);
      }
    for (int64_t ch = 0; ch < C; ++ch) {
      const double inv = 1 / std::sqrt(var[ch] + eps);
      db[ch] = sdy[ch];
      ds[ch] = sdyx[ch] * inv;
      for (int64_t r = 0; r < R; ++r) {
        const double xc = x[r * C + ch] - mean[ch];
        dx[r * C + ch] = training ? scale[ch] * inv *
                                        (dy[r * C + ch] - sdy[ch] / R - xc * inv * inv * sdyx[ch] / R)
                                  : scale[ch] * inv * dy[r * C + ch];
      }
    }
    loom_op* g = Build("FusedBatchNormGrad", {Const<float>(s, dy), Const<float>(s, x), Const<float>({C}, scale),
                                              Const<float>({C}, mean), Const<float>({C}, var)},
                       Attrs({Float("epsilon", 0.01f), Bool("is_training", training)}));
    auto out = RunOk({{g, 0}, {g, 1}, {g, 2}, {g, 3}});
    ExpectNear<float>(out[0], s, ToFloat(dx), 1e-5, 1e-5);
    ExpectNear<float>(out[1], {C}, ToFloat(ds), 1e-5, 1e-5);
    ExpectNear<float>(out[2], {C}, ToFloat(db), 1e-5, 1e-5);
    ExpectValues<float>(out[3], {0}, {});
  }
}

TEST_F(BatchNorm, WrongChannelCountIsAnError) {
  loom_op* op = nullptr;
  ExpectError(TryBuild("FusedBatchNorm", {Const<float>({1, 2, 2, 3}, Values(12, 1)), Const<float>({2}, {1, 1}),
                                          Const<float>({3}, {0, 0, 0}), Const<float>({0}, {}), Const<float>({0}, {})},
                       {}, &op),
              "INVALID_ARGUMENT", {"FusedBatchNorm", "3"});
}

}  // namespace
}  // namespace loomtest
