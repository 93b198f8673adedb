#include "runtime/plugin/registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/core/c_status.h"
#include "runtime/core/logging.h"
#include "runtime/ops/op_registry.h"
#include "runtime/plugin/host_api.h"

namespace loom {

// ------------------------------------------------------------------ devices

static void ReleaseDeviceBuffer(Buffer* b) {
  Device* d = b->device;
  d->iface->deallocate(d->iface->state, d->ordinal, b->data);
  d->bytes_in_use.fetch_sub(static_cast<int64_t>(b->size), std::memory_order_relaxed);
}

Status Device::Allocate(size_t bytes, std::shared_ptr<Buffer>* out) {
  void* p = nullptr;
  RETURN_IF_ERROR(TakeStatus(iface->allocate(iface->state, ordinal, bytes ? bytes : 1, 64, &p))
                      .WithPrefix(StrCat("allocating ", bytes, " bytes on ", name, ": ")));
  if (!p) return ResourceExhausted("device ", name, " returned no memory for ", bytes, " bytes");
  auto b = std::make_shared<Buffer>();
  b->data = p;
  b->size = bytes;
  b->device = this;
  b->release = ReleaseDeviceBuffer;
  bytes_in_use.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  *out = std::move(b);
  return Status::OK();
}

Status Device::CopyHostToDevice(void* dst, const void* src, size_t bytes) {
  if (memory_is_host) {
    if (bytes) std::memcpy(dst, src, bytes);
    return Status::OK();
  }
  return TakeStatus(iface->memcpy_host_to_device(iface->state, ordinal, nullptr, dst, src, bytes));
}
Status Device::CopyDeviceToHost(void* dst, const void* src, size_t bytes) {
  if (memory_is_host) {
    if (bytes) std::memcpy(dst, src, bytes);
    return Status::OK();
  }
  return TakeStatus(iface->memcpy_device_to_host(iface->state, ordinal, nullptr, dst, src, bytes));
}
Status Device::CopyDeviceToDevice(void* dst, const void* src, size_t bytes) {
  if (memory_is_host) {
    if (bytes) std::memcpy(dst, src, bytes);
    return Status::OK();
  }
  return TakeStatus(iface->memcpy_device_to_device(iface->state, ordinal, nullptr, dst, src, bytes));
}

Status CopyTensor(const Tensor& src, Device* dst, Tensor* out) {
  const size_t bytes = src.byte_size();
  Device* from = src.buffer() ? src.buffer()->device : nullptr;
  if (from && from->memory_is_host) from = nullptr;
  if (dst && dst->memory_is_host) dst = nullptr;
  Tensor result;
  if (!dst) {
    RETURN_IF_ERROR(Tensor::Allocate(src.dtype(), src.shape(), &result));
  } else {
    std::shared_ptr<Buffer> buf;
    RETURN_IF_ERROR(dst->Allocate(bytes, &buf));
    result = Tensor(src.dtype(), src.shape(), std::move(buf));
  }
  if (bytes) {
    if (!from && !dst) {
      std::memcpy(result.data(), src.data(), bytes);
    } else if (!from) {
      RETURN_IF_ERROR(dst->CopyHostToDevice(result.data(), src.data(), bytes));
    } else if (!dst) {
      RETURN_IF_ERROR(from->CopyDeviceToHost(result.data(), src.data(), bytes));
    } else if (from == dst) {
      RETURN_IF_ERROR(dst->CopyDeviceToDevice(result.data(), src.data(), bytes));
    } else {  // between two devices: through the host
      Tensor staging;
      RETURN_IF_ERROR(Tensor::Allocate(src.dtype(), src.shape(), &staging));
      RETURN_IF_ERROR(from->CopyDeviceToHost(staging.data(), src.data(), bytes));
      RETURN_IF_ERROR(dst->CopyHostToDevice(result.data(), staging.data(), bytes));
    }
  }
  *out = std::move(result);
  return Status::OK();
}

bool Tensor::on_host() const { return !buf_ || !buf_->device || buf_->device->memory_is_host; }

// ------------------------------------------------------------------ kernels

bool KernelDef::Matches(const AttrMap& attrs) const {
  for (const auto& c : constraints) {
    const AttrValue* v = attrs.Find(c.first);
    if (!v) return false;
    if (v->kind() == AttrValue::kType) {
      if (!(c.second & LOOM_DTYPE_BIT(v->type()))) return false;
    } else if (v->kind() == AttrValue::kTypeList) {
      for (DataType t : v->tlist())
        if (!(c.second & LOOM_DTYPE_BIT(t))) return false;
    } else {
      return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------ registry

Registry* Registry::Get() {
  // Discovery runs plugin inits, which call back into the registry on this
  // thread: the recursive mutex lets them in; other threads wait for it.
  static Registry* r = new Registry();
  static std::atomic<bool> discovered{false};
  if (!discovered.load(std::memory_order_acquire)) {
    std::lock_guard<std::recursive_mutex> l(r->mu_);
    if (!r->discovering_) {
      r->discovering_ = true;
      r->DiscoverPlugins();
      discovered.store(true, std::memory_order_release);
    }
  }
  return r;
}

std::vector<Device*> Registry::devices() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<Device*> out;
  for (const auto& d : devices_) out.push_back(d.get());
  std::stable_sort(out.begin(), out.end(),
                   [](Device* a, Device* b) { return a->priority > b->priority; });
  return out;
}

Device* Registry::FindDevice(const std::string& type, int ordinal) const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  for (const auto& d : devices_)
    if (d->type == type && d->ordinal == ordinal) return d.get();
  return nullptr;
}

const KernelDef* Registry::FindKernel(const std::string& op_type, const std::string& device_type,
                                      const AttrMap& attrs) const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  const KernelDef* best = nullptr;
  for (const auto& k : kernels_) {
    if (k->op_type != op_type || k->device_type != device_type || !k->Matches(attrs)) continue;
    if (!best || k->priority > best->priority) best = k.get();
  }
  return best;
}

std::vector<std::string> Registry::KernelDeviceTypes(const std::string& op_type) const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& k : kernels_)
    if (k->op_type == op_type && std::find(out.begin(), out.end(), k->device_type) == out.end())
      out.push_back(k->device_type);
  return out;
}

std::vector<const KernelDef*> Registry::KernelsFor(const std::string& op_type) const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<const KernelDef*> out;
  for (const auto& k : kernels_)
    if (k->op_type == op_type) out.push_back(k.get());
  return out;
}

std::vector<const KernelDef*> Registry::AllKernels() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<const KernelDef*> out;
  for (const auto& k : kernels_) out.push_back(k.get());
  return out;
}

std::vector<PluginRecord> Registry::plugins() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<PluginRecord> out;
  for (const auto& p : plugins_) out.push_back(*p);
  return out;
}

static thread_local PendingPlugin* g_pending = nullptr;

PendingPlugin* CurrentPendingPlugin() { return g_pending; }

static bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

static std::vector<std::string> ListPlugins(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 3 && n.compare(n.size() - 3, 3, ".so") == 0) out.push_back(dir + "/" + n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

static std::string LibraryDir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&LibraryDir), &info) && info.dli_fname) {
    std::string p = info.dli_fname;
    size_t slash = p.rfind('/');
    if (slash != std::string::npos) return p.substr(0, slash);
  }
  return ".";
}

void Registry::DiscoverPlugins() {
  std::vector<std::string> paths;
  const char* no_default = std::getenv("LOOM_NO_DEFAULT_PLUGINS");
  if (!no_default || std::strcmp(no_default, "1") != 0) {
    for (auto& p : ListPlugins(LibraryDir() + "/loom/plugins")) paths.push_back(p);
  }
  if (const char* env = std::getenv("LOOM_PLUGIN_PATH")) {
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
      size_t colon = s.find(':', start);
      if (colon == std::string::npos) colon = s.size();
      std::string item = s.substr(start, colon - start);
      if (!item.empty()) {
        if (IsDir(item)) {
          for (auto& p : ListPlugins(item)) paths.push_back(p);
        } else {
          paths.push_back(item);
        }
      }
      start = colon + 1;
    }
  }
  for (const auto& p : paths) {
    Status s = LoadPlugin(p);
    if (!s.ok()) LogMessage(LOOM_LOG_WARNING, "loom", StrCat("skipping plugin: ", s.message()));
  }
}

Status AbiMismatch(const char* kind, const char* abi, const PluginRecord& rec, int host_major, int host_minor,
                   const char* header) {
  return FailedPrecondition(kind, " ", rec.path, " was built for ", abi, " ", rec.abi_major, ".", rec.abi_minor,
                            " but this Loom provides ABI ", host_major, ".", host_minor,
                            " (major versions must match); rebuild it against this Loom's ", header);
}

Status Registry::LoadPlugin(const std::string& path_in) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  char resolved[4096];
  std::string path = realpath(path_in.c_str(), resolved) ? std::string(resolved) : path_in;
  for (const auto& p : plugins_)
    if (p->path == path) {
      if (p->loaded) return Status::OK();
      return FailedPrecondition("plugin ", path, " was refused earlier: ", p->error);
    }
  plugins_.push_back(std::make_unique<PluginRecord>());
  PluginRecord* rec = plugins_.back().get();
  rec->path = path;
  auto refuse = [&](Status s) {
    rec->error = s.message();
    return s;
  };

  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return refuse(NotFound("cannot load plugin ", path, ": ", err ? err : "dlopen failed"));
  }
  auto init = reinterpret_cast<loom_plugin_init_fn>(dlsym(handle, LOOM_PLUGIN_INIT_SYMBOL));
  if (!init) {
    auto transport_init = reinterpret_cast<loom_transport_init_fn>(dlsym(handle, LOOM_TRANSPORT_INIT_SYMBOL));
    if (transport_init) return refuse(LoadTransportPlugin(transport_init, rec));
    return refuse(InvalidArgument("plugin ", path, " exports neither ", LOOM_PLUGIN_INIT_SYMBOL, " nor ",
                                  LOOM_TRANSPORT_INIT_SYMBOL, "; is it a Loom plugin?"));
  }

  PendingPlugin pending;
  pending.record = rec;
  loom_plugin_info info;
  std::memset(&info, 0, sizeof(info));
  info.struct_size = LOOM_PLUGIN_INFO_STRUCT_SIZE;
  rec->host.reset(MakeHostApi(rec));
  const loom_host_api* host = rec->host.get();
  g_pending = &pending;
  Status init_status = TakeStatus(init(host, &info));
  g_pending = nullptr;

  if (info.struct_size >= LOOM_STRUCT_SIZE(loom_plugin_info, abi_minor)) {
    rec->abi_major = info.abi_major;
    rec->abi_minor = info.abi_minor;
  }
  if (info.struct_size >= LOOM_STRUCT_SIZE(loom_plugin_info, version)) {
    rec->name = info.name ? info.name : "";
    rec->version = info.version ? info.version : "";
  }
  if (rec->abi_major != LOOM_PLUGIN_ABI_MAJOR)
    return refuse(AbiMismatch("plugin", "plugin ABI", *rec, LOOM_PLUGIN_ABI_MAJOR, LOOM_PLUGIN_ABI_MINOR, "loom_plugin.h"));
  if (!init_status.ok())
    return refuse(init_status.WithPrefix(StrCat("plugin ", path, ": init failed: ")));
  if (!pending.first_error.ok())
    return refuse(pending.first_error.WithPrefix(StrCat("plugin ", path, ": ")));

  // Check device-type clashes and kernels' devices before committing anything.
  for (const auto& d : pending.devices)
    for (const auto& have : devices_)
      if (have->type == d->type)
        return refuse(AlreadyExists("plugin ", path, " registers device type ", d->type,
                                    ", which plugin ", have->plugin->path, " already provides"));

  for (auto& op : pending.ops) {
    Status s = OpRegistry::Global()->Register(std::move(op));
    if (!s.ok()) return refuse(s.WithPrefix(StrCat("plugin ", path, ": ")));
  }
  for (auto& g : pending.grads) OpRegistry::Global()->RegisterGradient(g.first, std::move(g.second));
  for (auto& iface : pending.devices) {
    for (int i = 0; i < iface->count; ++i) {
      auto d = std::make_unique<Device>();
      d->type = iface->type;
      d->ordinal = i;
      d->name = StrCat("/device:", d->type, ":", i);
      d->priority = iface->priority;
      d->memory_is_host = iface->memory_is_host != 0;
      d->iface = iface.get();
      d->plugin = rec;
      devices_.push_back(std::move(d));
    }
    device_ifaces_.push_back(std::move(iface));
  }
  for (auto& k : pending.kernels) {
    k->plugin = rec;
    kernels_.push_back(std::move(k));
  }
  rec->loaded = true;
  return Status::OK();
}

}  // namespace loom
