// Runs one conformance case on a device and on the CPU (the reference) and
// judges the device's answer. No test framework: the gtest suite
// (tests/conformance) and the installed `loom-conformance` runner (what
// `loom plugin-check --conformance` execs) both call this, so a vendor's
// plugin is held to exactly the checks Loom's own devices pass.
#ifndef LOOM_TOOLS_CONFORMANCE_RUNNER_H_
#define LOOM_TOOLS_CONFORMANCE_RUNNER_H_

#include <string>

#include "conformance.h"

namespace conformance {

enum class Verdict {
  kPass,
  kFail,  // detail: what differs (op, element, values, tolerance and why)
  kSkip,  // detail: why (the device lacks a kernel for the case's dtypes, ...)
};

struct Result {
  Verdict verdict = Verdict::kPass;
  std::string detail;
};

// Builds the case twice in fresh graphs — the op on /device:CPU:0 and on
// /device:<device_type>:0 — runs both and compares outputs (and Ref inputs
// after the run) within the case's tolerance, or checks that both fail with
// the case's error code. A device without a kernel for the case (placement
// finds none, or the kernel answers UNIMPLEMENTED) is a skip, never for CPU.
Result CheckCase(const Case& c, const std::string& device_type);

// Whether a device of this type is registered (by any loaded plugin).
bool DevicePresent(const std::string& device_type);

// What the loader said about each plugin ("\n  path: loaded|refused: why").
std::string PluginReport();

}  // namespace conformance

#endif  // LOOM_TOOLS_CONFORMANCE_RUNNER_H_
