// The device half of conformance: every device type that every plugin in the
// build's plugin directory registers is driven directly through its
// loom_device_interface by the checks of tools/conformance/device_checks.h
// (which the installed `loom plugin-check --conformance` runs too). The
// plugins are loaded with dlopen and a minimal host: this binary does not
// link libloom. The ops half is conformance_test.cc.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "device_checks.h"

namespace conformance {
namespace {

// Loads every plugin of the directory once; the devices they register.
const std::vector<PluginDevice>& Devices() {
  static const std::vector<PluginDevice> devices = [] {
    std::vector<PluginDevice> out;
    DIR* dir = opendir(LOOM_PLUGIN_DIR);
    if (!dir) return out;
    std::vector<std::string> paths;
    while (dirent* e = readdir(dir)) {
      std::string n = e->d_name;
      if (n.size() > 3 && n.compare(n.size() - 3, 3, ".so") == 0)
        paths.push_back(std::string(LOOM_PLUGIN_DIR) + "/" + n);
    }
    closedir(dir);
    for (const std::string& p : paths) LoadPluginDevices(p, &out);  // refused ones add no device
    return out;
  }();
  return devices;
}

struct Param {
  int index;  // into Devices()
  int ordinal;
};

class DeviceInterface : public ::testing::TestWithParam<Param> {
 protected:
  void Check(const char* name) {
    const loom_device_interface& d = Devices()[GetParam().index].iface;
    for (const DeviceCheck& c : DeviceChecks()) {
      if (std::strcmp(c.name, name) != 0) continue;
      const std::string r = c.run(d, GetParam().ordinal);
      if (r.rfind("SKIP: ", 0) == 0) GTEST_SKIP() << r.substr(6);
      EXPECT_EQ(r, "") << d.type << ":" << GetParam().ordinal;
      return;
    }
    FAIL() << "no device check named " << name;
  }
};

TEST_P(DeviceInterface, CopiesRoundTripThroughDeviceMemory) { Check("CopiesRoundTripThroughDeviceMemory"); }
TEST_P(DeviceInterface, BuffersAreIndependent) { Check("BuffersAreIndependent"); }
TEST_P(DeviceInterface, MemoryStatsCountLiveBytes) { Check("MemoryStatsCountLiveBytes"); }
TEST_P(DeviceInterface, StreamsAndEventsOrderAsynchronousCopies) {
  Check("StreamsAndEventsOrderAsynchronousCopies");
}

TEST(DeviceInterfaceSetup, EveryCheckHasATestHere) { EXPECT_EQ(DeviceChecks().size(), 4u); }

std::vector<Param> AllDevices() {
  std::vector<Param> p;
  const auto& devs = Devices();
  for (size_t i = 0; i < devs.size(); ++i)
    for (int o = 0; o < devs[i].iface.count; ++o) p.push_back({static_cast<int>(i), o});
  return p;
}

std::string Name(const ::testing::TestParamInfo<Param>& info) {
  return std::string(Devices()[info.param.index].iface.type) + "_" + std::to_string(info.param.ordinal);
}

INSTANTIATE_TEST_SUITE_P(Plugins, DeviceInterface, ::testing::ValuesIn(AllDevices()), Name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DeviceInterface);

TEST(DeviceInterfaceSetup, TheBuildsPluginsRegisterDevices) {
  bool cpu = false;
  for (const auto& d : Devices()) cpu = cpu || std::strcmp(d.iface.type, "CPU") == 0;
  EXPECT_TRUE(cpu) << "no CPU device found in " << LOOM_PLUGIN_DIR;
}

}  // namespace
}  // namespace conformance
