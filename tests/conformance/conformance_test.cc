// Runs every case of the tables on every registered device and compares with
// the CPU. Test names: <DEVICE>/<Op>_<case>, e.g. OPENCL/MatMul_transpose_b.
// The tables and the runner (tools/conformance) ship with the SDK: an
// installed `loom plugin-check --conformance` holds a vendor's plugin to the
// same checks.
#include "conformance.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "runner.h"

namespace conformance {
namespace {

struct Param {
  std::string device;
  int case_index;
};

class Conformance : public ::testing::TestWithParam<Param> {};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = AllCases();
  return cases;
}

TEST_P(Conformance, MatchesCpu) {
  const Case& c = Cases()[GetParam().case_index];
  const std::string& type = GetParam().device;
  if (!DevicePresent(type)) {
    GTEST_SKIP() << "device type " << type << " is not present; plugins seen:" << PluginReport();
  }
  const Result r = CheckCase(c, type);
  if (r.verdict == Verdict::kSkip) GTEST_SKIP() << r.detail;
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.detail;
}

std::vector<Param> AllParams() {
  std::vector<Param> p;
  for (const std::string& d : RegisteredDevices())
    for (size_t i = 0; i < Cases().size(); ++i) p.push_back({d, static_cast<int>(i)});
  return p;
}

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  const Case& c = Cases()[info.param.case_index];
  std::string s = info.param.device + "_" + c.op + "_" + c.name;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Devices, Conformance, ::testing::ValuesIn(AllParams()), ParamName);

// The tables themselves: names unique, inputs filling their shapes.
TEST(ConformanceTables, CaseNamesAreUnique) {
  std::set<std::string> seen;
  for (const Case& c : Cases()) EXPECT_TRUE(seen.insert(c.op + "." + c.name).second) << c.op << "." << c.name;
}

}  // namespace
}  // namespace conformance
