// The device half of conformance: every device type that every plugin in the
// build's plugin directory registers is driven directly through its
// loom_device_interface — allocate, copies in every direction, streams and
// events (when it has them), synchronize and memory statistics — with values
// checked byte for byte. The ops half is conformance_test.cc.
//
// The plugins are loaded here with dlopen and a minimal host table (this
// binary does not link libloom), exactly as a vendor's plugin would be driven
// by any host: what is checked is the plugin's side of the ABI.
#include <dirent.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "loom/loom_plugin.h"

// The opaque status of this host: a code and a message.
struct loom_status {
  loom_code code;
  std::string message;
};

namespace {

loom_status* StatusNew(loom_code code, const char* msg) { return new loom_status{code, msg ? msg : ""}; }
void StatusFree(loom_status* s) { delete s; }
loom_code StatusCode(const loom_status* s) { return s ? s->code : LOOM_CODE_OK; }
const char* StatusMessage(const loom_status* s) { return s ? s->message.c_str() : ""; }
void Log(loom_log_level, const char*, const char*) {}
const char* ConfigGet(const char*, const char*) { return nullptr; }

struct Registered {
  std::string plugin;
  loom_device_interface iface;  // copied (strings of plugins are static)
};
std::vector<Registered>* g_registered = nullptr;
std::string g_loading;

loom_status* RegisterDevice(const loom_device_interface* d) {
  Registered r;
  r.plugin = g_loading;
  std::memset(&r.iface, 0, sizeof r.iface);
  std::memcpy(&r.iface, d, std::min(d->struct_size, sizeof r.iface));
  g_registered->push_back(r);
  return nullptr;
}
loom_status* Accept(const void*) { return nullptr; }
loom_status* RegisterGradient(const char*, loom_plugin_gradient_fn, void*) { return nullptr; }

// Loads every plugin of the directory once; devices they register.
const std::vector<Registered>& Devices() {
  static std::vector<Registered> devices;
  static bool loaded = false;
  if (loaded) return devices;
  loaded = true;
  g_registered = &devices;
  static loom_host_api host;
  std::memset(&host, 0, sizeof host);
  host.struct_size = LOOM_HOST_API_STRUCT_SIZE;
  host.abi_major = LOOM_PLUGIN_ABI_MAJOR;
  host.abi_minor = LOOM_PLUGIN_ABI_MINOR;
  host.config_get = ConfigGet;
  host.status_new = StatusNew;
  host.status_free = StatusFree;
  host.status_code = StatusCode;
  host.status_message = StatusMessage;
  host.log = Log;
  host.register_device = RegisterDevice;
  host.register_op = reinterpret_cast<loom_status* (*)(const loom_op_def*)>(Accept);
  host.register_kernel = reinterpret_cast<loom_status* (*)(const loom_kernel_def*)>(Accept);
  host.register_gradient = RegisterGradient;
  DIR* dir = opendir(LOOM_PLUGIN_DIR);
  if (!dir) return devices;
  std::vector<std::string> paths;
  while (dirent* e = readdir(dir)) {
    std::string n = e->d_name;
    if (n.size() > 3 && n.compare(n.size() - 3, 3, ".so") == 0) paths.push_back(std::string(LOOM_PLUGIN_DIR) + "/" + n);
  }
  closedir(dir);
  for (const std::string& p : paths) {
    void* h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    auto init = reinterpret_cast<loom_plugin_init_fn>(dlsym(h, LOOM_PLUGIN_INIT_SYMBOL));
    if (!init) continue;
    loom_plugin_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = LOOM_PLUGIN_INFO_STRUCT_SIZE;
    g_loading = p;
    size_t before = devices.size();
    loom_status* s = init(&host, &info);
    if (s) {  // refused (e.g. no OpenCL platform): its devices, if any, are dropped
      devices.resize(before);
      StatusFree(s);
    }
  }
  return devices;
}

std::string Take(loom_status* s) {
  if (!s) return "";
  std::string m = s->message;
  delete s;
  return m.empty() ? "error" : m;
}

struct Param {
  int index;  // into Devices()
  int ordinal;
};

class DeviceInterface : public ::testing::TestWithParam<Param> {
 protected:
  const loom_device_interface& d() const { return Devices()[GetParam().index].iface; }
  int ord() const { return GetParam().ordinal; }
};

std::vector<unsigned char> Pattern(size_t n, unsigned seed) {
  std::vector<unsigned char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return v;
}

TEST_P(DeviceInterface, CopiesRoundTripThroughDeviceMemory) {
  for (size_t n : {size_t{1}, size_t{3}, size_t{4097}, size_t{1} << 20, (size_t{3} << 20) + 5}) {
    void *a = nullptr, *b = nullptr;
    ASSERT_EQ(Take(d().allocate(d().state, ord(), n, 64, &a)), "") << n << " bytes";
    ASSERT_EQ(Take(d().allocate(d().state, ord(), n, 64, &b)), "") << n << " bytes";
    ASSERT_NE(a, nullptr);
    std::vector<unsigned char> in = Pattern(n, static_cast<unsigned>(n)), out(n, 0);
    ASSERT_EQ(Take(d().memcpy_host_to_device(d().state, ord(), nullptr, a, in.data(), n)), "");
    std::memset(in.data(), 0xee, 1);  // the source may be reused at once
    ASSERT_EQ(Take(d().memcpy_device_to_device(d().state, ord(), nullptr, b, a, n)), "");
    ASSERT_EQ(Take(d().memcpy_device_to_host(d().state, ord(), nullptr, out.data(), b, n)), "");
    std::vector<unsigned char> want = Pattern(n, static_cast<unsigned>(n));
    EXPECT_EQ(std::memcmp(out.data(), want.data(), n), 0) << n << " bytes came back different";
    d().deallocate(d().state, ord(), a);
    d().deallocate(d().state, ord(), b);
  }
}

TEST_P(DeviceInterface, BuffersAreIndependent) {
  // Many live buffers at once (a pool or allocator must not hand one out twice).
  const size_t n = 1000;
  std::vector<void*> bufs(40, nullptr);
  for (size_t i = 0; i < bufs.size(); ++i) {
    ASSERT_EQ(Take(d().allocate(d().state, ord(), n, 64, &bufs[i])), "");
    std::vector<unsigned char> v(n, static_cast<unsigned char>(i));
    ASSERT_EQ(Take(d().memcpy_host_to_device(d().state, ord(), nullptr, bufs[i], v.data(), n)), "");
  }
  for (size_t i = 0; i < bufs.size(); i += 2) d().deallocate(d().state, ord(), bufs[i]);
  for (size_t i = 0; i < bufs.size(); i += 2) {  // reuse freed ones, overwrite
    ASSERT_EQ(Take(d().allocate(d().state, ord(), n, 64, &bufs[i])), "");
    std::vector<unsigned char> v(n, 0xab);
    ASSERT_EQ(Take(d().memcpy_host_to_device(d().state, ord(), nullptr, bufs[i], v.data(), n)), "");
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    std::vector<unsigned char> out(n);
    ASSERT_EQ(Take(d().memcpy_device_to_host(d().state, ord(), nullptr, out.data(), bufs[i], n)), "");
    const unsigned char want = i % 2 == 0 ? 0xab : static_cast<unsigned char>(i);
    EXPECT_EQ(out[0], want) << "buffer " << i;
    EXPECT_EQ(out[n - 1], want) << "buffer " << i;
  }
  for (void* p : bufs) d().deallocate(d().state, ord(), p);
}

TEST_P(DeviceInterface, MemoryStatsCountLiveBytes) {
  if (!d().memory_stats) GTEST_SKIP() << d().type << " has no memory_stats";
  loom_memory_stats s0, s1, s2;
  for (auto* s : {&s0, &s1, &s2}) {
    std::memset(s, 0, sizeof *s);
    s->struct_size = LOOM_MEMORY_STATS_STRUCT_SIZE;
  }
  ASSERT_EQ(Take(d().memory_stats(d().state, ord(), &s0)), "");
  void* p = nullptr;
  const size_t n = 5 << 20;
  ASSERT_EQ(Take(d().allocate(d().state, ord(), n, 64, &p)), "");
  ASSERT_EQ(Take(d().memory_stats(d().state, ord(), &s1)), "");
  EXPECT_GE(s1.bytes_in_use - s0.bytes_in_use, static_cast<int64_t>(n));
  EXPECT_GE(s1.peak_bytes_in_use, s1.bytes_in_use);
  d().deallocate(d().state, ord(), p);
  ASSERT_EQ(Take(d().memory_stats(d().state, ord(), &s2)), "");
  EXPECT_EQ(s2.bytes_in_use, s0.bytes_in_use);
  EXPECT_GE(s2.peak_bytes_in_use, s1.bytes_in_use);
  EXPECT_TRUE(s2.bytes_limit == -1 || s2.bytes_limit >= s2.peak_bytes_in_use);
}

TEST_P(DeviceInterface, StreamsAndEventsOrderAsynchronousCopies) {
  if (!d().stream_create || !d().event_create) GTEST_SKIP() << d().type << " is synchronous (no streams)";
  loom_stream* st = nullptr;
  loom_event* ev = nullptr;
  ASSERT_EQ(Take(d().stream_create(d().state, ord(), &st)), "");
  ASSERT_EQ(Take(d().event_create(d().state, ord(), &ev)), "");
  const size_t n = (1 << 20) + 17;
  void* a = nullptr;
  ASSERT_EQ(Take(d().allocate(d().state, ord(), n, 64, &a)), "");
  std::vector<unsigned char> in = Pattern(n, 5), out(n, 0);
  // Asynchronous on the stream; `in` stays alive until the event completes.
  ASSERT_EQ(Take(d().memcpy_host_to_device(d().state, ord(), st, a, in.data(), n)), "");
  ASSERT_EQ(Take(d().event_record(d().state, ord(), st, ev)), "");
  // The device's own (NULL) stream waits for it, then reads back.
  ASSERT_EQ(Take(d().stream_wait_event(d().state, ord(), nullptr, ev)), "");
  ASSERT_EQ(Take(d().event_synchronize(d().state, ord(), ev)), "");
  ASSERT_EQ(Take(d().memcpy_device_to_host(d().state, ord(), nullptr, out.data(), a, n)), "");
  EXPECT_EQ(std::memcmp(out.data(), in.data(), n), 0);
  // Device -> host on the stream, then synchronize the event.
  std::vector<unsigned char> out2(n, 0);
  ASSERT_EQ(Take(d().memcpy_device_to_host(d().state, ord(), st, out2.data(), a, n)), "");
  ASSERT_EQ(Take(d().event_record(d().state, ord(), st, ev)), "");
  ASSERT_EQ(Take(d().event_synchronize(d().state, ord(), ev)), "");
  EXPECT_EQ(std::memcmp(out2.data(), in.data(), n), 0);
  if (d().synchronize) {
    EXPECT_EQ(Take(d().synchronize(d().state, ord())), "");
  }
  d().deallocate(d().state, ord(), a);
  d().event_destroy(d().state, ord(), ev);
  d().stream_destroy(d().state, ord(), st);
}

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
