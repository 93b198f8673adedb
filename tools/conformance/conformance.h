// The device conformance suite: every op case runs on every registered
// device type and is compared with the same case on the CPU.
//
// A case is one op with its inputs (values given, or generated from a seed),
// its attrs, how many outputs to compare, the tolerance it is held to and
// why, or the error code it must fail with (on the CPU and on the device
// alike). Inputs are Consts (host memory, placed on the CPU); the op under
// test requests "/device:<TYPE>:0", so every case also exercises the copies
// into and out of the device's memory. Variable-update ops (ApplyAdam, ...)
// get real variables on the device for their Ref inputs.
//
// A device type plugs in with one small file that registers it (see
// devices/opencl.cc); absent devices, and cases a device has no kernel for
// (no kernel for the op and dtype, or the kernel answers UNIMPLEMENTED), are
// skipped with the reason.
#ifndef LOOM_TESTS_CONFORMANCE_CONFORMANCE_H_
#define LOOM_TESTS_CONFORMANCE_CONFORMANCE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loom/loom.h"

namespace conformance {

// |device - cpu| <= atol + rtol * |cpu| for floats; integers and bools are
// always exact. `why` is the argument for the numbers (shown on failure).
struct Tol {
  double atol = 0, rtol = 0;
  const char* why = "exact: the op moves or compares values, or rounds once (IEEE)";
};

// How generated input values are drawn (deterministic, from the case's seed).
enum class Gen {
  kGiven,      // Input::values holds them all
  kUniform,    // uniform in [lo, hi)
  kInts,       // integers in [lo, hi]
};

struct Input {
  loom_dtype dtype = LOOM_DTYPE_FLOAT;
  std::vector<int64_t> shape;
  std::vector<double> values;  // Gen::kGiven
  Gen gen = Gen::kGiven;
  double lo = -1, hi = 1;
  bool ref = false;  // a variable (on the device under test) fed to a Ref input
  // A Placeholder of unknown shape fed with the values, instead of a Const:
  // shape inference cannot then reject bad shapes at graph-building time, so
  // the kernel's own checks run (error cases feed every input).
  bool fed = false;
};

struct Case {
  std::string name;  // unique within the op: "Add.broadcast_row"
  std::string op;
  std::vector<Input> inputs;
  std::function<void(loom_op_builder*)> attrs;  // may be empty
  int num_outputs = 1;
  bool inputs_as_list = false;  // all inputs form one list input (AddN's "inputs: N * T")
  // Or: inputs [list_begin, list_begin + list_size) form one list input
  // (ConcatV2's values, Concat's after concat_dim); list_size 0: none.
  int list_begin = 0, list_size = 0;
  Tol tol;
  std::string error;  // "" or the code name both devices must fail with
  uint64_t seed = 1;
};

// Case tables, one function per file (ops_*.cc).
std::vector<Case> ElementwiseCases();
std::vector<Case> MatMulCases();
std::vector<Case> ReduceCases();
std::vector<Case> NnCases();
std::vector<Case> ArrayCases();
std::vector<Case> IndexingCases();
std::vector<Case> AllCases();

// ---- input helpers for the tables
Input Given(std::vector<int64_t> shape, std::vector<double> values,
            loom_dtype dt = LOOM_DTYPE_FLOAT);
Input Uniform(std::vector<int64_t> shape, double lo = -1, double hi = 1,
              loom_dtype dt = LOOM_DTYPE_FLOAT);
Input Ints(std::vector<int64_t> shape, double lo, double hi, loom_dtype dt = LOOM_DTYPE_INT32);
Input Scalar(double v, loom_dtype dt = LOOM_DTYPE_FLOAT);
Input Vector(std::vector<double> v, loom_dtype dt = LOOM_DTYPE_INT32);
Input Ref(Input in);  // as a variable

// Common tolerances, argued in cases.cc.
Tol Exact();
Tol Rounded(double ulps, const char* why);  // rtol = ulps * 2^-24
Tol Summed(double atol, double rtol, const char* why);

// ---- device registration: one line per device type, in devices/<type>.cc:
//   static conformance::DeviceRegistration reg("OPENCL");
// or, without a file, at run time: LOOM_CONFORMANCE_DEVICES=MYASIC,OTHER.
struct DeviceRegistration {
  explicit DeviceRegistration(const char* device_type);
};
const std::vector<std::string>& RegisteredDevices();

}  // namespace conformance

#endif  // LOOM_TESTS_CONFORMANCE_CONFORMANCE_H_
