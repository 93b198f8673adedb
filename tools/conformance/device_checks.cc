// The device-interface checks and the minimal host that loads a plugin for
// them. Every check frees what it allocated, also when it fails.
#include "device_checks.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

// The opaque status of this host: a code and a message.
struct loom_status {
  loom_code code;
  std::string message;
};

namespace conformance {
namespace {

loom_status* StatusNew(loom_code code, const char* msg) { return new loom_status{code, msg ? msg : ""}; }
void StatusFree(loom_status* s) { delete s; }
loom_code StatusCode(const loom_status* s) { return s ? s->code : LOOM_CODE_OK; }
const char* StatusMessage(const loom_status* s) { return s ? s->message.c_str() : ""; }
void Log(loom_log_level, const char*, const char*) {}
const char* ConfigGet(const char*, const char*) { return nullptr; }

std::vector<PluginDevice>* g_registered = nullptr;
std::string g_loading;

// A device whose memory is host memory may leave out the copies: the
// runtime copies with memcpy itself, and so do the checks here.
loom_status* HostCopy(void*, int, loom_stream*, void* dst, const void* src, size_t n) {
  if (n) std::memmove(dst, src, n);
  return nullptr;
}

// The runtime's registration rules (runtime/plugin/host_api.cc), in its words.
loom_status* RegisterDevice(const loom_device_interface* d) {
  if (!d || d->struct_size < LOOM_STRUCT_SIZE(loom_device_interface, deallocate))
    return StatusNew(LOOM_CODE_INVALID_ARGUMENT,
                     "register_device: the loom_device_interface is NULL or too small");
  const std::string type = d->type ? d->type : "(null)";
  if (d->count < 1)
    return StatusNew(LOOM_CODE_INVALID_ARGUMENT, ("register_device: device type " + type + " has count " +
                                                  std::to_string(d->count) + " (need >= 1)")
                                                     .c_str());
  PluginDevice r;
  r.plugin = g_loading;
  std::memset(&r.iface, 0, sizeof r.iface);
  std::memcpy(&r.iface, d, std::min(d->struct_size, sizeof r.iface));
  loom_device_interface& f = r.iface;
  const char* missing = !f.allocate ? "allocate" : !f.deallocate ? "deallocate" : nullptr;
  if (!missing && !f.memory_is_host)
    missing = !f.memcpy_host_to_device     ? "memcpy_host_to_device"
              : !f.memcpy_device_to_host   ? "memcpy_device_to_host"
              : !f.memcpy_device_to_device ? "memcpy_device_to_device"
                                           : nullptr;
  if (missing)
    return StatusNew(LOOM_CODE_INVALID_ARGUMENT,
                     ("device type " + type + " lacks required function '" + missing + "'").c_str());
  if (!f.memcpy_host_to_device) f.memcpy_host_to_device = HostCopy;
  if (!f.memcpy_device_to_host) f.memcpy_device_to_host = HostCopy;
  if (!f.memcpy_device_to_device) f.memcpy_device_to_device = HostCopy;
  g_registered->push_back(r);
  return nullptr;
}
loom_status* Accept(const void*) { return nullptr; }
loom_status* RegisterGradient(const char*, loom_plugin_gradient_fn, void*) { return nullptr; }

const loom_host_api* Host() {
  static loom_host_api host = [] {
    loom_host_api h;
    std::memset(&h, 0, sizeof h);
    h.struct_size = LOOM_HOST_API_STRUCT_SIZE;
    h.abi_major = LOOM_PLUGIN_ABI_MAJOR;
    h.abi_minor = LOOM_PLUGIN_ABI_MINOR;
    h.config_get = ConfigGet;
    h.status_new = StatusNew;
    h.status_free = StatusFree;
    h.status_code = StatusCode;
    h.status_message = StatusMessage;
    h.log = Log;
    h.register_device = RegisterDevice;
    h.register_op = reinterpret_cast<loom_status* (*)(const loom_op_def*)>(Accept);
    h.register_kernel = reinterpret_cast<loom_status* (*)(const loom_kernel_def*)>(Accept);
    h.register_gradient = RegisterGradient;
    return h;
  }();
  return &host;
}

// "" if OK, else the message (the status is freed).
std::string Take(loom_status* s) {
  if (!s) return "";
  std::string m = s->message;
  delete s;
  return m.empty() ? "error" : m;
}

std::vector<unsigned char> Pattern(size_t n, unsigned seed) {
  std::vector<unsigned char> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return v;
}

// Device memory freed at scope exit.
struct DeviceBuffer {
  const loom_device_interface& d;
  int ord;
  void* p = nullptr;
  DeviceBuffer(const loom_device_interface& dev, int o) : d(dev), ord(o) {}
  ~DeviceBuffer() {
    if (p) d.deallocate(d.state, ord, p);
  }
  std::string Allocate(size_t n) { return Take(d.allocate(d.state, ord, n, 64, &p)); }
};

#define CHECK_OK(what, expr)                                   \
  do {                                                         \
    std::string err_ = Take(expr);                             \
    if (!err_.empty()) return std::string(what) + ": " + err_; \
  } while (0)

std::string CopiesRoundTripThroughDeviceMemory(const loom_device_interface& d, int ord) {
  for (size_t n : {size_t{1}, size_t{3}, size_t{4097}, size_t{1} << 20, (size_t{3} << 20) + 5}) {
    const std::string size = std::to_string(n) + " bytes";
    DeviceBuffer a(d, ord), b(d, ord);
    CHECK_OK("allocate " + size, d.allocate(d.state, ord, n, 64, &a.p));
    CHECK_OK("allocate " + size, d.allocate(d.state, ord, n, 64, &b.p));
    if (!a.p || !b.p) return "allocate " + size + " returned OK and a NULL pointer";
    std::vector<unsigned char> in = Pattern(n, static_cast<unsigned>(n)), out(n, 0);
    CHECK_OK("host -> device, " + size, d.memcpy_host_to_device(d.state, ord, nullptr, a.p, in.data(), n));
    std::memset(in.data(), 0xee, 1);  // the source may be reused at once
    CHECK_OK("device -> device, " + size, d.memcpy_device_to_device(d.state, ord, nullptr, b.p, a.p, n));
    CHECK_OK("device -> host, " + size, d.memcpy_device_to_host(d.state, ord, nullptr, out.data(), b.p, n));
    std::vector<unsigned char> want = Pattern(n, static_cast<unsigned>(n));
    if (std::memcmp(out.data(), want.data(), n) != 0) {
      size_t i = 0;
      while (out[i] == want[i]) ++i;
      return size + " came back different (host -> device -> device -> host), first at byte " +
             std::to_string(i) + ": " + std::to_string(out[i]) + " instead of " + std::to_string(want[i]);
    }
  }
  return "";
}

std::string BuffersAreIndependent(const loom_device_interface& d, int ord) {
  // Many live buffers at once (a pool or allocator must not hand one out twice).
  const size_t n = 1000;
  std::vector<std::unique_ptr<DeviceBuffer>> bufs;
  for (size_t i = 0; i < 40; ++i) {
    bufs.push_back(std::make_unique<DeviceBuffer>(d, ord));
    CHECK_OK("allocate buffer " + std::to_string(i), d.allocate(d.state, ord, n, 64, &bufs[i]->p));
    std::vector<unsigned char> v(n, static_cast<unsigned char>(i));
    CHECK_OK("host -> device", d.memcpy_host_to_device(d.state, ord, nullptr, bufs[i]->p, v.data(), n));
  }
  for (size_t i = 0; i < bufs.size(); i += 2) {  // free half, reuse, overwrite
    d.deallocate(d.state, ord, bufs[i]->p);
    bufs[i]->p = nullptr;
  }
  for (size_t i = 0; i < bufs.size(); i += 2) {
    CHECK_OK("allocate again", d.allocate(d.state, ord, n, 64, &bufs[i]->p));
    std::vector<unsigned char> v(n, 0xab);
    CHECK_OK("host -> device", d.memcpy_host_to_device(d.state, ord, nullptr, bufs[i]->p, v.data(), n));
  }
  for (size_t i = 0; i < bufs.size(); ++i) {
    std::vector<unsigned char> out(n);
    CHECK_OK("device -> host", d.memcpy_device_to_host(d.state, ord, nullptr, out.data(), bufs[i]->p, n));
    const unsigned char want = i % 2 == 0 ? 0xab : static_cast<unsigned char>(i);
    if (out[0] != want || out[n - 1] != want)
      return "buffer " + std::to_string(i) + " of 40 live ones holds " + std::to_string(out[0]) + "/" +
             std::to_string(out[n - 1]) + ", not what was written (" + std::to_string(want) +
             "): two buffers share memory";
  }
  return "";
}

std::string MemoryStatsCountLiveBytes(const loom_device_interface& d, int ord) {
  if (!d.memory_stats) return std::string("SKIP: ") + d.type + " has no memory_stats";
  loom_memory_stats s0, s1, s2;
  for (auto* s : {&s0, &s1, &s2}) {
    std::memset(s, 0, sizeof *s);
    s->struct_size = LOOM_MEMORY_STATS_STRUCT_SIZE;
  }
  CHECK_OK("memory_stats", d.memory_stats(d.state, ord, &s0));
  const size_t n = 5 << 20;
  {
    DeviceBuffer p(d, ord);
    CHECK_OK("allocate 5 MiB", d.allocate(d.state, ord, n, 64, &p.p));
    CHECK_OK("memory_stats", d.memory_stats(d.state, ord, &s1));
  }
  CHECK_OK("memory_stats", d.memory_stats(d.state, ord, &s2));
  if (s1.bytes_in_use - s0.bytes_in_use < static_cast<int64_t>(n))
    return "bytes_in_use grew by " + std::to_string(s1.bytes_in_use - s0.bytes_in_use) +
           " for a live 5 MiB buffer";
  if (s1.peak_bytes_in_use < s1.bytes_in_use) return "peak_bytes_in_use is below bytes_in_use";
  if (s2.bytes_in_use != s0.bytes_in_use)
    return "bytes_in_use is " + std::to_string(s2.bytes_in_use) + " after the free, was " +
           std::to_string(s0.bytes_in_use);
  if (s2.peak_bytes_in_use < s1.bytes_in_use) return "peak_bytes_in_use went down after a free";
  if (!(s2.bytes_limit == -1 || s2.bytes_limit >= s2.peak_bytes_in_use))
    return "bytes_limit " + std::to_string(s2.bytes_limit) + " is below the peak";
  return "";
}

std::string StreamsAndEventsOrderAsynchronousCopies(const loom_device_interface& d, int ord) {
  if (!d.stream_create || !d.event_create)
    return std::string("SKIP: ") + d.type + " is synchronous (no streams)";
  const char* missing = !d.stream_destroy      ? "stream_destroy"
                        : !d.event_destroy     ? "event_destroy"
                        : !d.event_record      ? "event_record"
                        : !d.stream_wait_event ? "stream_wait_event"
                        : !d.event_synchronize ? "event_synchronize"
                                               : nullptr;
  if (missing) return std::string("offers streams and events but not ") + missing;
  loom_stream* st = nullptr;
  loom_event* ev = nullptr;
  CHECK_OK("stream_create", d.stream_create(d.state, ord, &st));
  std::string err = Take(d.event_create(d.state, ord, &ev));
  if (!err.empty()) {
    d.stream_destroy(d.state, ord, st);
    return "event_create: " + err;
  }
  const size_t n = (1 << 20) + 17;
  DeviceBuffer a(d, ord);
  std::vector<unsigned char> in = Pattern(n, 5), out(n, 0), out2(n, 0);
  auto run = [&]() -> std::string {
    CHECK_OK("allocate", d.allocate(d.state, ord, n, 64, &a.p));
    // Asynchronous on the stream; `in` stays alive until the event completes.
    CHECK_OK("host -> device on a stream", d.memcpy_host_to_device(d.state, ord, st, a.p, in.data(), n));
    CHECK_OK("event_record", d.event_record(d.state, ord, st, ev));
    // The device's own (NULL) stream waits for it, then reads back.
    CHECK_OK("stream_wait_event", d.stream_wait_event(d.state, ord, nullptr, ev));
    CHECK_OK("event_synchronize", d.event_synchronize(d.state, ord, ev));
    CHECK_OK("device -> host", d.memcpy_device_to_host(d.state, ord, nullptr, out.data(), a.p, n));
    if (std::memcmp(out.data(), in.data(), n) != 0)
      return std::string("a read after waiting on the copy's event saw other bytes");
    // Device -> host on the stream, then synchronize the event.
    CHECK_OK("device -> host on a stream", d.memcpy_device_to_host(d.state, ord, st, out2.data(), a.p, n));
    CHECK_OK("event_record", d.event_record(d.state, ord, st, ev));
    CHECK_OK("event_synchronize", d.event_synchronize(d.state, ord, ev));
    if (std::memcmp(out2.data(), in.data(), n) != 0)
      return std::string("an asynchronous device -> host copy was incomplete after its event");
    if (d.synchronize) CHECK_OK("synchronize", d.synchronize(d.state, ord));
    return "";
  };
  err = run();
  if (d.synchronize) Take(d.synchronize(d.state, ord));  // nothing in flight before the frees
  d.event_destroy(d.state, ord, ev);
  d.stream_destroy(d.state, ord, st);
  return err;
}

}  // namespace

std::string LoadPluginDevices(const std::string& path, std::vector<PluginDevice>* out) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    return "cannot load " + path + ": " + (e ? e : "dlopen failed");
  }
  auto init = reinterpret_cast<loom_plugin_init_fn>(dlsym(h, LOOM_PLUGIN_INIT_SYMBOL));
  if (!init) return path + " does not export " LOOM_PLUGIN_INIT_SYMBOL;
  loom_plugin_info info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = LOOM_PLUGIN_INFO_STRUCT_SIZE;
  g_registered = out;
  g_loading = path;
  const size_t before = out->size();
  loom_status* s = init(Host(), &info);
  g_registered = nullptr;
  if (s) {  // refused (e.g. no OpenCL platform): its devices, if any, are dropped
    out->resize(before);
    return path + ": init failed: " + Take(s);
  }
  return "";
}

const std::vector<DeviceCheck>& DeviceChecks() {
  static const std::vector<DeviceCheck> checks = {
      {"CopiesRoundTripThroughDeviceMemory", CopiesRoundTripThroughDeviceMemory},
      {"BuffersAreIndependent", BuffersAreIndependent},
      {"MemoryStatsCountLiveBytes", MemoryStatsCountLiveBytes},
      {"StreamsAndEventsOrderAsynchronousCopies", StreamsAndEventsOrderAsynchronousCopies},
  };
  return checks;
}

}  // namespace conformance
