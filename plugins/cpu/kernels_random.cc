// RandomUniform, RandomStandardNormal, TruncatedNormal.
//
// The generator is Philox4x32-10, seeded and consumed exactly as TensorFlow's
// PhiloxRandomOp does (GuardedPhiloxRandom): key = seed, counter high words =
// seed2; each run reserves 256 samples per output element from the node's
// stream; output group g (4 floats or 2 doubles) is computed from the stream
// position skipped by g, so results do not depend on how work is split over
// threads. The same (seed, seed2) therefore gives the same numbers in every
// fresh session, successive runs of one node continue the stream, and the
// values match TensorFlow's up to the last bit of libm's log/sin/cos.
// seed = seed2 = 0 draws a random seed pair per node.
#include <array>
#include <cmath>
#include <mutex>
#include <random>

#include "kernels.h"

namespace loom_cpu {
namespace {

class Philox {
 public:
  using Result = std::array<uint32_t, 4>;
  Philox() = default;
  Philox(uint64_t seed_lo, uint64_t seed_hi) {
    key_[0] = static_cast<uint32_t>(seed_lo);
    key_[1] = static_cast<uint32_t>(seed_lo >> 32);
    counter_[2] = static_cast<uint32_t>(seed_hi);
    counter_[3] = static_cast<uint32_t>(seed_hi >> 32);
  }

  // Advances the 128-bit counter by `count` (one count = one 4x32 result).
  void Skip(uint64_t count) {
    const uint32_t lo = static_cast<uint32_t>(count);
    uint32_t hi = static_cast<uint32_t>(count >> 32);
    counter_[0] += lo;
    if (counter_[0] < lo) ++hi;
    counter_[1] += hi;
    if (counter_[1] < hi) {
      if (++counter_[2] == 0) ++counter_[3];
    }
  }

  Result operator()() {
    Result c = counter_;
    std::array<uint32_t, 2> k = key_;
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        k[0] += 0x9E3779B9u;
        k[1] += 0xBB67AE85u;
      }
      const uint64_t p0 = uint64_t{0xD2511F53u} * c[0];
      const uint64_t p1 = uint64_t{0xCD9E8D57u} * c[2];
      const uint32_t lo0 = static_cast<uint32_t>(p0), hi0 = static_cast<uint32_t>(p0 >> 32);
      const uint32_t lo1 = static_cast<uint32_t>(p1), hi1 = static_cast<uint32_t>(p1 >> 32);
      c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    }
    Skip(1);
    return c;
  }

 private:
  std::array<uint32_t, 4> counter_{};
  std::array<uint32_t, 2> key_{};
};

// One uint32 at a time from a Philox stream (TensorFlow's SingleSampleAdapter).
class SingleSample {
 public:
  explicit SingleSample(Philox* gen) : gen_(gen) {}
  uint32_t operator()() {
    if (used_ == 4) {
      buf_ = (*gen_)();
      used_ = 0;
    }
    return buf_[used_++];
  }

 private:
  Philox* gen_;
  Philox::Result buf_{};
  int used_ = 4;
};

float Uint32ToFloat(uint32_t x) {  // [0, 1) from 23 mantissa bits
  const uint32_t bits = (127u << 23) | (x & 0x7fffffu);
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f - 1.0f;
}

double Uint64ToDouble(uint32_t x0, uint32_t x1) {  // [0, 1) from 52 mantissa bits
  const uint64_t man = (static_cast<uint64_t>(x0 & 0xfffffu) << 32) | x1;
  const uint64_t bits = (uint64_t{1023} << 52) | man;
  double d;
  std::memcpy(&d, &bits, sizeof(d));
  return d - 1.0;
}

void BoxMuller(uint32_t x0, uint32_t x1, float* f0, float* f1) {
  const float kEpsilon = 1.0e-7f;
  float u1 = Uint32ToFloat(x0);
  if (u1 < kEpsilon) u1 = kEpsilon;
  const float v1 = 2.0f * static_cast<float>(M_PI) * Uint32ToFloat(x1);
  const float u2 = std::sqrt(-2.0f * std::log(u1));
  *f0 = std::sin(v1) * u2;
  *f1 = std::cos(v1) * u2;
}

void BoxMuller(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3, double* d0, double* d1) {
  const double kEpsilon = 1.0e-7;
  double u1 = Uint64ToDouble(x0, x1);
  if (u1 < kEpsilon) u1 = kEpsilon;
  const double v1 = 2 * M_PI * Uint64ToDouble(x2, x3);
  const double u2 = std::sqrt(-2.0 * std::log(u1));
  *d0 = std::sin(v1) * u2;
  *d1 = std::cos(v1) * u2;
}

// Distributions: kGroup outputs per call; kSkip stream positions per group.
template <typename T> struct Uniform;
template <> struct Uniform<float> {
  static constexpr int kGroup = 4;
  static constexpr uint64_t kSkip = 1;
  static void Sample(Philox* g, float* out) {
    const Philox::Result r = (*g)();
    for (int i = 0; i < 4; ++i) out[i] = Uint32ToFloat(r[i]);
  }
};
template <> struct Uniform<double> {
  static constexpr int kGroup = 2;
  static constexpr uint64_t kSkip = 1;
  static void Sample(Philox* g, double* out) {
    const Philox::Result r = (*g)();
    out[0] = Uint64ToDouble(r[0], r[1]);
    out[1] = Uint64ToDouble(r[2], r[3]);
  }
};
template <typename T> struct Normal;
template <> struct Normal<float> {
  static constexpr int kGroup = 4;
  static constexpr uint64_t kSkip = 1;
  static void Sample(Philox* g, float* out) {
    const Philox::Result r = (*g)();
    BoxMuller(r[0], r[1], &out[0], &out[1]);
    BoxMuller(r[2], r[3], &out[2], &out[3]);
  }
};
template <> struct Normal<double> {
  static constexpr int kGroup = 2;
  static constexpr uint64_t kSkip = 1;
  static void Sample(Philox* g, double* out) {
    const Philox::Result r = (*g)();
    BoxMuller(r[0], r[1], r[2], r[3], &out[0], &out[1]);
  }
};
// Normal samples with |x| >= 2 rejected; a variable number of stream values
// per group, so each group owns 256 reserved positions per output.
template <typename T> struct Truncated;
template <> struct Truncated<float> {
  static constexpr int kGroup = 4;
  static constexpr uint64_t kSkip = 4 * 256 / 4;
  static void Sample(Philox* g, float* out) {
    SingleSample s(g);
    int n = 0;
    while (true) {
      const uint32_t x0 = s(), x1 = s();
      float f[2];
      BoxMuller(x0, x1, &f[0], &f[1]);
      for (float v : f) {
        if (std::fabs(v) < 2.0f) {
          out[n++] = v;
          if (n == kGroup) return;
        }
      }
    }
  }
};
template <> struct Truncated<double> {
  static constexpr int kGroup = 2;
  static constexpr uint64_t kSkip = 2 * 256 / 4;
  static void Sample(Philox* g, double* out) {
    SingleSample s(g);
    int n = 0;
    while (true) {
      const uint32_t x0 = s(), x1 = s(), x2 = s(), x3 = s();
      double d[2];
      BoxMuller(x0, x1, x2, x3, &d[0], &d[1]);
      for (double v : d) {
        if (std::fabs(v) < 2.0) {
          out[n++] = v;
          if (n == kGroup) return;
        }
      }
    }
  }
};

// Per-node state: the node's stream. Compute may run concurrently (several
// steps at once), so reserving a range of the stream takes the mutex.
struct RandomState {
  std::mutex mu;
  Philox gen;
};

template <template <typename> class Dist>
loom_status* RandomImpl(void* state, loom_kernel_context* c) {
  Kernel k(c);
  Tensor shape_t = k.input(0);
  if (shape_t.rank != 1) {
    return InvalidArgument("shape must be a vector of {int32,int64}, got shape ",
                           shape_t.shape_str());
  }
  std::vector<int64_t> sv;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(shape_t, "shape", &sv));
  LOOM_RETURN_IF_ERROR(CheckRank(static_cast<int>(std::min<size_t>(sv.size(), 1000))));
  Dims d;
  for (size_t i = 0; i < sv.size(); ++i) {
    if (sv[i] < 0) return InvalidArgument("shape[", i, "] must be >= 0, got ", sv[i]);
    d.push_back(sv[i]);
  }
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, d, &y));
  auto* st = static_cast<RandomState*>(state);
  Philox base;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    base = st->gen;
    st->gen.Skip(static_cast<uint64_t>(y.size) * 256);
  }
  if (y.size == 0) return nullptr;
  return Dispatch(FloatTypes{}, y.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    using D = Dist<T>;
    T* out = y.as<T>();
    const int64_t n = y.size;
    const int64_t groups = (n + D::kGroup - 1) / D::kGroup;
    k.parallel_for(groups, D::kGroup * 40, [&](int64_t s, int64_t e) {
      T buf[D::kGroup];
      for (int64_t g = s; g < e; ++g) {
        Philox gen = base;
        gen.Skip(static_cast<uint64_t>(g) * D::kSkip);
        D::Sample(&gen, buf);
        const int64_t at = g * D::kGroup;
        const int64_t cnt = std::min<int64_t>(D::kGroup, n - at);
        for (int64_t i = 0; i < cnt; ++i) out[at + i] = buf[i];
      }
    });
    return nullptr;
  });
}

}  // namespace

loom_status* RandomCreate(void* user_data, loom_kernel_construction* c, void** out_state) {
  const loom_attrs* attrs = g_host->construction_attrs(c);
  int64_t seed = 0, seed2 = 0;
  for (auto [name, dst] : {std::pair<const char*, int64_t*>{"seed", &seed}, {"seed2", &seed2}}) {
    loom_status* s = g_host->attr_int(attrs, name, dst);
    if (s != nullptr) {
      if (g_host->status_code(s) != LOOM_CODE_NOT_FOUND) return s;
      g_host->status_free(s);
    }
  }
  if (seed == 0 && seed2 == 0) {
    std::random_device rd;
    seed = (static_cast<int64_t>(rd()) << 32) ^ rd();
    seed2 = (static_cast<int64_t>(rd()) << 32) ^ rd();
  }
  auto* st = new RandomState;
  st->gen = Philox(static_cast<uint64_t>(seed), static_cast<uint64_t>(seed2));
  *out_state = st;
  return nullptr;
}

void RandomDestroy(void* state) { delete static_cast<RandomState*>(state); }

LOOM_CPU_KERNEL(RandomUniformKernel) { return RandomImpl<Uniform>(state, ctx); }
LOOM_CPU_KERNEL(RandomStandardNormalKernel) { return RandomImpl<Normal>(state, ctx); }
LOOM_CPU_KERNEL(TruncatedNormalKernel) { return RandomImpl<Truncated>(state, ctx); }

}  // namespace loom_cpu
