// Input helpers, the common tolerances (and the arguments for them), and
// the device registry.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "conformance.h"

namespace conformance {

Input Given(std::vector<int64_t> shape, std::vector<double> values, loom_dtype dt) {
  Input in;
  in.dtype = dt;
  in.shape = std::move(shape);
  in.values = std::move(values);
  in.gen = Gen::kGiven;
  return in;
}

Input Uniform(std::vector<int64_t> shape, double lo, double hi, loom_dtype dt) {
  Input in;
  in.dtype = dt;
  in.shape = std::move(shape);
  in.gen = Gen::kUniform;
  in.lo = lo;
  in.hi = hi;
  return in;
}

Input Ints(std::vector<int64_t> shape, double lo, double hi, loom_dtype dt) {
  Input in = Uniform(std::move(shape), lo, hi, dt);
  in.gen = Gen::kInts;
  return in;
}

Input Scalar(double v, loom_dtype dt) { return Given({}, {v}, dt); }

Input Vector(std::vector<double> v, loom_dtype dt) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Given({n}, std::move(v), dt);
}

Input Ref(Input in) {
  in.ref = true;
  return in;
}

Tol Exact() { return Tol{}; }

// float32 has a 24-bit significand: one unit in the last place of x is at
// most 2^-23 |x|, and a correctly rounded result is within 2^-24 |x|.
Tol Rounded(double ulps, const char* why) {
  Tol t;
  t.atol = 0;
  t.rtol = ulps * std::ldexp(1.0, -24);
  t.why = why;
  return t;
}

Tol Summed(double atol, double rtol, const char* why) {
  Tol t;
  t.atol = atol;
  t.rtol = rtol;
  t.why = why;
  return t;
}

namespace {
std::vector<std::string>& Registry() {
  static std::vector<std::string> devices;
  return devices;
}
}  // namespace

DeviceRegistration::DeviceRegistration(const char* device_type) {
  Registry().push_back(device_type);
}

// The registered types, plus those named in $LOOM_CONFORMANCE_DEVICES
// ("MYASIC,OTHER"): a plugin built out of tree is checked without a file here
// (e.g. LOOM_PLUGIN_PATH=dir LOOM_CONFORMANCE_DEVICES=MYASIC conformance_test
// --gtest_filter='*MYASIC_*').
const std::vector<std::string>& RegisteredDevices() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v = Registry();
    if (const char* env = std::getenv("LOOM_CONFORMANCE_DEVICES")) {
      std::string s = env;
      size_t pos = 0;
      while (pos <= s.size()) {
        size_t end = s.find(',', pos);
        if (end == std::string::npos) end = s.size();
        std::string t = s.substr(pos, end - pos);
        if (!t.empty() && std::find(v.begin(), v.end(), t) == v.end()) v.push_back(t);
        pos = end + 1;
      }
    }
    return v;
  }();
  return all;
}

std::vector<Case> AllCases() {
  std::vector<Case> all;
  for (auto* table : {ElementwiseCases, MatMulCases, ReduceCases, NnCases, ArrayCases, IndexingCases}) {
    std::vector<Case> t = table();
    all.insert(all.end(), t.begin(), t.end());
  }
  return all;
}

}  // namespace conformance
